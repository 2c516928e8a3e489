import ArgumentParser
import CommandSupport

/// `modnas-predict`: latency predictors as differentiable objectives.
struct PredictCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "modnas-predict",
            abstract: "Train and apply latency predictors (per-device MLPs and a device-conditioned meta predictor).",
            discussion: "Subcommands (train, predict, eval, adapt) arrive with the predictors.",
            version: versionText)
    }
}
