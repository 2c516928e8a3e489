import ArgumentParser
import CommandSupport

ModnasCommand.runAsTool()
