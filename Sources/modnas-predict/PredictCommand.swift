import ArgumentParser
import CommandSupport
import Autodiff
import DeviceModel
import Foundation
import Predictors
import SearchSpaces

/// `modnas-predict`: latency predictors as differentiable objectives.
struct PredictCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "modnas-predict",
            abstract: "Train and apply latency predictors (per-device MLPs and a device-conditioned meta predictor).",
            version: versionText,
            subcommands: [Train.self, Predict.self, Eval.self, Adapt.self, Benchmark.self])
    }
}

extension PredictCommand {
    struct Benchmark: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the predictors on a space's benchmark devices: per-device MLPs and meta leave-one-device-out.")

        @Option(help: "Architectures each per-device MLP trains on (judged on all others), where the benchmark has no split of its own (HW-GPT-Bench's: hw_order < 8000).") var trainSize = 1000
        @Option(help: "Models averaged per predictor.") var ensemble = 1
        @Option(help: "Architectures per training device for the meta predictor.") var metaSamples = 3000
        @Option(help: "Which part to run: mlp, meta or both.") var part = "both"
        @Option(help: "Only this metric: latency or energy (default: each the space's benchmark holds).") var metric: DeviceMetric?
        @Option(help: "Maximum training epochs of the per-device MLPs.") var epochs = 800
        @Option(name: .customLong("device"), help: "Only these devices (repeatable).") var devices: [String] = []
        @Option(help: "Hidden layer sizes of the per-device MLPs, comma-separated.") var hidden = "256,256"
        @Option(help: "Adam learning rate of the per-device MLPs.") var learningRate: Float = 1e-3
        @Option(help: "L2 weight decay of the per-device MLPs.") var weightDecay: Float = 1e-2
        @Option(help: "Minibatch size of the per-device MLPs.") var batch = 64

        @OptionGroup var spaceOption: SpaceOption

        func validate() throws {
            guard ["mlp", "meta", "both"].contains(part) else { throw ValidationError("--part takes mlp, meta or both, not '\(part)'") }
            try requireFinite("--learning-rate", Double(learningRate), atLeast: 0)
            try requireFinite("--weight-decay", Double(weightDecay), atLeast: 0)
        }

        func run() throws {
            var bench = PredictorBenchmark()
            bench.trainSize = trainSize
            bench.ensembleSize = ensemble
            bench.metaSamplesPerDevice = metaSamples
            bench.configuration.maxEpochs = epochs
            bench.configuration.hidden = hidden.split(separator: ",").compactMap { Int($0) }
            bench.configuration.learningRate = learningRate
            bench.configuration.weightDecay = weightDecay
            bench.configuration.batchSize = batch
            let space = spaceOption.space
            bench.trainingPositions = try BenchmarkTables.trainingPositions(space: space.space)
            let split = bench.trainingPositions.map { "the benchmark's own split: \($0.count) training architectures, judged on the other \(space.tableSize - $0.count)" }
                ?? "\(trainSize) training architectures, judged on the other \(space.tableSize - trainSize)"
            let terminal = standardErrorIsTerminal
            let progress: (String) -> Void = { if terminal { printToStandardError("  \($0)") } }
            for metric in metric.map({ [$0] }) ?? DeviceMetric.allCases {
                let all = try BenchmarkTables.trainingDevices(space: space.space, metric: metric)
                guard !all.isEmpty else {
                    if self.metric != nil { throw ValidationError("the \(space.shortName) benchmark holds no \(metric); use --metric latency") }
                    continue
                }
                let selected = self.devices.isEmpty ? all : all.filter { self.devices.contains($0.device) }
                if part != "meta" {
                    let start = Date()
                    let rows = try bench.perDeviceMLP(selected, progress: progress)
                    print(benchmarkTable(title: "Per-device \(metric) MLP (\(space.shortName)), \(split) (\(Int(Date().timeIntervalSince(start))) s)", rows: rows))
                    print("")
                }
                if part != "mlp" {
                    let start = Date()
                    let rows = try bench.metaLeaveOneOut(all, heldOut: Set(self.devices), progress: progress)
                    print(benchmarkTable(title: "Meta \(metric) predictor (\(space.shortName)), leave-one-device-out, from the held-out device's 10 reference \(metric) values only"
                                         + (bench.trainingPositions == nil ? "" : ", judged on its held-out architectures") + " (\(Int(Date().timeIntervalSince(start))) s)", rows: rows))
                    print("")
                }
            }
        }
    }
}
