import CommandSupport

ProfileCommand.runAsTool()
