import ArgumentParser
import Autodiff
import CommandSupport
import DataFiles
import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Profiling
import SearchSpaces
import Workflow

extension PredictorKind: ExpressibleByArgument {}
extension DeviceMetric: ExpressibleByArgument {}

/// Reads a device feature file; a malformed one is a one-line error.
func loadFeatures(_ path: String) throws -> DeviceFeatures { try DeviceFeatures.load(path) }

extension PredictCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train per-device MLPs (--kind mlp) or one device-conditioned meta predictor (--kind meta) of latency or energy from a profile database.")

        @Option(help: "mlp or meta.") var kind: PredictorKind
        @Option(help: "latency (ms) or energy (J per inference; devices without energy are skipped, or refused when named).")
        var metric = DeviceMetric.latency
        @OptionGroup var dbOption: DatabaseOption
        @Option(name: .customLong("device"), help: "Devices to train on (repeatable; default: every device with enough data).")
        var devices: [String] = []
        @Option(help: "Architectures per device to train on (mlp: the rest is held out for the metrics). A benchmark device of a benchmark with its own split (HW-GPT-Bench: hw_order < 8000) trains on that split instead; meta: at most this many of it.") var trainSize = 1000
        @Flag(help: "mlp: train on every architecture of the device, nothing held out (metrics in-sample, labelled so).") var allRows = false
        @Option(help: "Models averaged per predictor.") var ensemble = 1
        @Option(help: "Seed.") var seed: UInt64 = 0
        @Option(help: "Most epochs of an mlp (default 800; early stopping usually ends sooner).") var maxEpochs: Int?
        @Option(help: "Output: a folder for mlp (one file per device), a file for meta.") var out: String?

        @OptionGroup var spaceOption: SpaceOption

        func validate() throws {
            if allRows, kind != .mlp { throw ValidationError("--all-rows is for --kind mlp") }
            guard trainSize >= PredictorTraining.minimumSamples, ensemble >= 1 else {
                throw ValidationError("--train-size must be ≥ \(PredictorTraining.minimumSamples) and --ensemble ≥ 1")
            }
        }

        func run() throws {
            var r = TrainingRequest()
            (r.kind, r.space, r.database, r.devices, r.trainSize, r.ensemble, r.seed, r.maxEpochs, r.out) =
                (kind, spaceOption.space, dbOption.db, devices, trainSize, ensemble, seed, maxEpochs, out)
            (r.allRows, r.metric) = (allRows, metric)
            try PredictorWorkflow.train(r) { print($0) }
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict a device's latencies or energies (the predictor's metric); writes arch_index,arch_string,<the space's columns>,predicted_latency_ms or predicted_energy_j.")

        @Option(help: "Predictor file.") var predictor: String
        @Option(help: "Device feature file (Profiles/<device>.json, or <device>.ofa.json).") var deviceFeatures: String
        @Flag(help: "Every architecture of the space's benchmark table (NB201: all 15,625; OFA: the 5,000 measured).") var all = false
        @Option(help: "Architectures: CSV with an arch_string column (OFA: or the table's ks,e,d,r columns), or one string per line.") var archs: String?
        @Option(help: "Output CSV (default: standard output).") var out: String?

        @OptionGroup var spaceOption: SpaceOption

        func validate() throws {
            guard all != (archs != nil) else { throw ValidationError("give exactly one of --all and --archs FILE") }
        }

        func run() throws {
            let loaded = try DevicePredictor(path: predictor)
            try loaded.file.require(space: spaceOption.space, path: predictor)
            let objective = try loaded.objective(device: try loadFeatures(deviceFeatures))
            let text = try PredictionTable.csv(objective: objective, space: spaceOption.space, listPath: archs)
            if let out { try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } else { print(text, terminator: "") }
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compare a predictor with a device's stored measurements.")

        @Option(help: "Predictor file.") var predictor: String
        @OptionGroup var dbOption: DatabaseOption
        @Option(help: "Device name.") var device: String

        func run() throws {
            let database = try ProfileDatabase(path: dbOption.db, readOnly: true)
            let p = try DevicePredictor(path: predictor)
            let space = try SpaceName(parsing: p.file.space).space
            let d = try DatabaseSamples.device(device, database: database, space: space, metric: p.file.predictedMetric)
            // A meta predictor needs the features; asking the store again gives its exact error.
            let features = p.file.kind == .meta && d.features == nil
                ? try database.features(device: device, space: p.file.space, references: try space.referenceStrings()) : d.features
            let objective = try p.objective(device: features)
            let m = PredictionMetrics(predicted: objective.predictions(d.encodings), truth: d.values)
            print(String(format: "%@ %@ (%d architectures, predicted vs measured/benchmark medians): Spearman %.4f, Kendall %.4f, MAPE %.2f %%, RMSE %.4g %@, within ±10 %% %.1f %%",
                         device, p.file.predictedMetric.rawValue, m.count, m.spearman, m.kendall, m.mape, m.rmse, p.file.predictedMetric.unit, m.within10))
        }
    }

    struct Adapt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fine-tune a meta predictor on a device's few measured architectures (references and samples).")

        @Option(help: "Meta predictor file.") var predictor: String
        @OptionGroup var dbOption: DatabaseOption
        @Option(help: "Device name.") var device: String
        @Option(help: "Fine-tuning epochs.") var epochs = 60
        @Option(help: "Output file.") var out: String

        func run() throws {
            let database = try ProfileDatabase(path: dbOption.db, readOnly: true)
            let base = try DevicePredictor(path: predictor)
            let d = try DatabaseSamples.device(device, database: database, space: try SpaceName(parsing: base.file.space).space,
                                               metric: base.file.predictedMetric)
            guard base.file.kind == .meta else { throw ValidationError("adapt needs a meta predictor, \(predictor) is \(base.file.kind)") }
            let adapted = try PredictorTraining.adapt(base.file, to: d, epochs: epochs)
            try adapted.write(to: out)
            let m = adapted.metrics["\(device) (adaptation samples)"]!
            print(String(format: "adapted to %@ on %d architectures (Spearman on them %.4f) → %@", device, d.architectures.count, m.spearman, out))
        }
    }
}
