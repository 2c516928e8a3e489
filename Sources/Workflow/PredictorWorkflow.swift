import DataFiles
import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Profiling
import SearchSpaces

/// What `modnas-predict train` is asked to do.
public struct TrainingRequest: Sendable {
    public var kind = PredictorKind.mlp
    /// What the predictors learn: latency, or energy from the devices that have it.
    public var metric = DeviceMetric.latency
    public var space = SpaceName.nb201
    public var database = "profiles.sqlite"
    /// Devices to train on (empty: every device with enough data).
    public var devices: [String] = []
    /// Architectures per device to train on; a benchmark device of a benchmark with its own
    /// split trains on that split (mlp) or on at most this many of its training part (meta).
    public var trainSize = 1000
    /// mlp: train on every architecture of the device (no held-out part; the metrics are
    /// in-sample and labelled so). The OFA evaluation predictors are trained so.
    public var allRows = false
    public var ensemble = 1
    public var seed: UInt64 = 0
    public var maxEpochs: Int?
    /// A folder for mlp (one file per device), a file for meta; nil: the shipped places
    /// (`Predictors/mlp-<device>.json` and `Predictors/meta.json`; `.ofa.json` for OFA;
    /// `energy-` before the name for energy).
    public var out: String?

    public init() {}
}

/// `modnas-predict predict`: a CSV of arch_index (empty where the table does not hold the
/// architecture), arch_string, the space's own columns and `predicted_<metric>`
/// (`predicted_latency_ms`, `predicted_energy_j`).
public enum PredictionTable {
    /// Predictions for the architectures listed in `listPath` (strings or a CSV), or for every
    /// architecture of the space's benchmark table when it is nil.
    public static func csv(objective: DeviceObjective, space name: SpaceName, listPath: String?) throws -> String {
        try csv(objective: objective, space: name.space, listPath: listPath)
    }

    static func csv<S: SearchSpace>(objective: DeviceObjective, space: S, listPath: String?) throws -> String {
        let architectures = try listPath.map { try CollectionPlan.readArchitectureList($0, space: space) }
            ?? BenchmarkTables.architectures(space: space)
        let indexOf = try space.tableIndexer()
        let predicted = objective.predictions(architectures, in: space)
        var lines = [CSVTable.record(["arch_index", "arch_string"] + space.tableColumns + ["predicted_" + objective.metric.fileName])]
        for (arch, v) in zip(architectures, predicted) {
            lines.append(CSVTable.record([indexOf(arch).map(String.init) ?? "", space.string(of: arch)] + space.tableValues(of: arch) + ["\(v)"]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `modnas-predict train`: per-device MLPs with their held-out metrics, or one meta predictor
/// over every device that has features, of latency or energy.
public enum PredictorWorkflow {
    /// Trains and writes the predictors; `report` receives one line per written file.
    public static func train(_ r: TrainingRequest, report: (String) -> Void) throws {
        try train(r, space: r.space.space, report: report)
    }

    static func train<S: SearchSpace>(_ r: TrainingRequest, space: S, report: (String) -> Void) throws {
        let database = try ProfileDatabase(path: r.database, readOnly: true)
        let refs = try space.referenceStrings()
        var samples: [DeviceSamples]
        if r.devices.isEmpty {
            // Every device with enough data; for energy, those that have it.
            samples = try database.deviceNames().compactMap { name in
                do { return try DatabaseSamples.device(name, database: database, space: space, metric: r.metric) } catch DeviceModelError.noEnergy {
                    return nil
                }
            }.filter { $0.architectures.count >= PredictorTraining.minimumSamples * 10 }
        } else {
            samples = try r.devices.map { try DatabaseSamples.device($0, database: database, space: space, metric: r.metric) }
        }
        guard !samples.isEmpty else { throw PredictorError.noTrainingData(database: r.database, metric: r.metric) }
        var c = TrainingConfiguration()
        c.seed = r.seed
        if let maxEpochs = r.maxEpochs {
            c.maxEpochs = maxEpochs
            c.patience = min(c.patience, max(maxEpochs / 4, 5))
        }
        switch r.kind {
        case .mlp:
            for d in samples {
                let (train, test) = r.allRows ? (d, d) : try benchmarkSplit(d, space: space) ?? DatabaseSamples.split(d, trainSize: r.trainSize, seed: r.seed)
                var file = try PredictorTraining.mlp(train, configuration: c, ensembleSize: r.ensemble, referenceArchIndices: refs.map(\.index))
                let predicted = try DevicePredictor(file: file).objective(device: nil).predictions(test.encodings)
                let key = r.allRows ? "\(d.device) (in-sample: trained on all rows)" : d.device
                file.metrics[key] = PredictionMetrics(predicted: predicted, truth: test.values)
                let path = ((r.out ?? "Predictors") as NSString).appendingPathComponent(PredictorFile.shippedName(device: d.device, space: r.space, metric: r.metric))
                try file.write(to: path)
                report(String(format: "%@: trained on %d, %@ %d: ρ %.4f, ±10 %% %.1f %% → %@", d.device, train.architectures.count,
                              r.allRows ? "in-sample" : "held-out", test.architectures.count, file.metrics[key]!.spearman, file.metrics[key]!.within10, path))
            }
        case .meta:
            var mc = TrainingConfiguration.meta
            mc.seed = r.seed
            let training = try samples.filter { (try? $0.features?.values(of: r.metric)) != nil }.map { d in
                DatabaseSamples.split(try benchmarkSplit(d, space: space)?.train ?? d, trainSize: r.trainSize, seed: r.seed).train
            }
            var file = try PredictorTraining.meta(training, configuration: mc, ensembleSize: r.ensemble, referenceArchIndices: refs.map(\.index))
            let predictor = DevicePredictor(file: file)
            for d in samples where (try? d.features?.values(of: r.metric)) != nil {
                let predicted = try predictor.objective(device: d.features).predictions(d.encodings)
                file.metrics["\(d.device) (training device, in-sample)"] = PredictionMetrics(predicted: predicted, truth: d.values)
            }
            let path = r.out ?? "Predictors/" + PredictorFile.shippedName(device: nil, space: r.space, metric: r.metric)
            try file.write(to: path)
            report("\(r.metric) meta predictor over \(training.count) devices → \(path)")
        }
    }

    /// A benchmark device's values split as the space's benchmark splits them (HW-GPT-Bench:
    /// `hw_order` < 8,000 trains); nil for a measured device or a benchmark without a split.
    static func benchmarkSplit<S: SearchSpace>(_ d: DeviceSamples, space: S) throws -> (train: DeviceSamples, test: DeviceSamples)? {
        guard d.latencyClock == nil, let rows = try space.benchmarkTrainingRows() else { return nil }
        let index = try space.tableIndexer()
        let positions = d.architectures.indices.filter { i in (try? space.parse(d.architectures[i])).flatMap(index).map(rows.contains) ?? false }
        return d.split(training: Set(positions))
    }
}
