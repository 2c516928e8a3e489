import CommandSupport

PredictCommand.runAsTool()
