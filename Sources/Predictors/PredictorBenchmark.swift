import Autodiff
import DataFiles
import DeviceModel
import Foundation
import SearchSpaces

/// The shipped benchmark tables of a space (`Devices/<space>/`) as training data.
public enum BenchmarkTables {
    /// Every device of the space's shipped device table with its values of `metric` and its
    /// features from the feature table; for energy, the devices whose table has it.
    public static func trainingDevices<S: SearchSpace>(space: S, metric: DeviceMetric = .latency) throws -> [DeviceSamples] {
        let (table, _) = try BenchmarkTable.shipped(space.name)
        let features = try featureFiles(space: space)
        let archs = try space.architectures(in: table)
        return try BenchmarkTable.devices(in: table, notDevices: Set(["arch_index", "arch_string"] + space.tableColumns)).compactMap { device in
            guard let values = metric == .latency ? device.latencies : device.energies else { return nil }
            return DeviceSamples(device: device.name, features: features[device.name], space: space, architectures: archs, metric: metric, values: values)
        }
    }

    /// Positions of the device table's rows in the benchmark's own training split (nil: it has none).
    public static func trainingPositions<S: SearchSpace>(space: S) throws -> Set<Int>? {
        guard let rows = try space.benchmarkTrainingRows() else { return nil }
        let indices = try BenchmarkTable.shipped(space.name).devices.column("arch_index")
        return Set(indices.indices.filter { Int(indices[$0]).map(rows.contains) ?? false })
    }

    /// The architectures of the space's device table, in its row order.
    public static func architectures<S: SearchSpace>(space: S) throws -> [S.Architecture] {
        try space.architectures(in: try BenchmarkTable.shipped(space.name).devices)
    }

    /// Feature vectors of all benchmark devices of the space, by name (with their reference
    /// energies where the benchmark has them).
    public static func featureFiles<S: SearchSpace>(space: S) throws -> [String: DeviceFeatures] {
        let refs = try space.referenceArchitectures().map(\.index)
        let devices = try BenchmarkTable.references(in: try BenchmarkTable.shipped(space.name).features, count: refs.count)
        return Dictionary(uniqueKeysWithValues: devices.map { device in
            (device.name, DeviceFeatures(device: device.name, space: space.name.rawValue, source: .benchmark, referenceArchIndices: refs,
                                         values: device.latencies, host: nil, energyValues: device.energies,
                                         energyAbsentReason: "its benchmark table holds no energy"))
        })
    }
}

/// Measures the predictors against the issue's targets in one run.
public struct PredictorBenchmark {
    public struct Row: Sendable {
        public var device: String
        public var metric: DeviceMetric
        public var metrics: PredictionMetrics
        /// For the meta predictor: the nearest-device copy baseline's Spearman ρ.
        public var baselineSpearman: Double?
    }

    public var trainSize = 1000
    /// The benchmark's own split (positions of the samples to train on): when set, it replaces
    /// the seeded `trainSize` split, and the meta predictor is judged on the held-out positions.
    public var trainingPositions: Set<Int>?
    public var ensembleSize = 1
    /// Architectures per training device for the meta predictor.
    public var metaSamplesPerDevice = 3000
    public var configuration = TrainingConfiguration()
    public var metaConfiguration = TrainingConfiguration.meta

    public init() {}

    /// Per-device MLPs trained on `trainSize` seeded architectures, judged on all the others.
    public func perDeviceMLP(_ devices: [DeviceSamples], progress: (String) -> Void = { _ in }) throws -> [Row] {
        try devices.map { d in
            let (train, test) = split(d)
            let file = try PredictorTraining.mlp(train, configuration: configuration, ensembleSize: ensembleSize,
                                                 referenceArchIndices: [])
            let predicted = try DevicePredictor(file: file).objective(device: nil).predictions(test.encodings)
            let row = Row(device: d.device, metric: d.metric, metrics: PredictionMetrics(predicted: predicted, truth: test.values))
            let fits = file.training.fits.map { "epochs \($0.epochs) best \($0.bestEpoch) val \($0.validationLoss.map { String(format: "%.4f", $0) } ?? "—")" }
            progress("mlp \(d.device): ρ \(String(format: "%.4f", row.metrics.spearman)); \(fits.joined(separator: ", "))")
            return row
        }
    }

    /// Leave-one-device-out: a meta predictor trained on all other devices predicts the held-out
    /// device from its feature vector alone (with the benchmark's split: trained on the other
    /// devices' training architectures, judged on the held-out ones).
    public func metaLeaveOneOut(_ devices: [DeviceSamples], heldOut: Set<String> = [],
                                progress: (String) -> Void = { _ in }) throws -> [Row] {
        let refs = devices.first?.features?.referenceArchIndices ?? []
        return try devices.filter { heldOut.isEmpty || heldOut.contains($0.device) }.map { device in
            let others = devices.filter { $0.device != device.device }
                .map { trainable($0).split(count: metaSamplesPerDevice, seed: configuration.seed).0 }
            let held = judged(device)
            let file = try PredictorTraining.meta(others, configuration: metaConfiguration, ensembleSize: ensembleSize,
                                                  referenceArchIndices: refs)
            let predicted = try DevicePredictor(file: file).objective(device: held.features).predictions(held.encodings)
            let nearest = nearestDevice(to: held, among: devices.filter { $0.device != held.device })
            let row = Row(device: held.device, metric: held.metric, metrics: PredictionMetrics(predicted: predicted, truth: held.values),
                          baselineSpearman: PredictionMetrics.spearman(judged(nearest).values, held.values))
            progress("meta \(held.device): ρ \(String(format: "%.4f", row.metrics.spearman))")
            return row
        }
    }

    /// The benchmark's split where it has one, else `trainSize` seeded samples and the rest.
    func split(_ d: DeviceSamples) -> (DeviceSamples, DeviceSamples) {
        trainingPositions.map { d.split(training: $0) } ?? d.split(count: trainSize, seed: configuration.seed)
    }

    /// What the meta predictor may train on: the benchmark's training part, or all of `d` without a split.
    func trainable(_ d: DeviceSamples) -> DeviceSamples { trainingPositions.map { d.split(training: $0).0 } ?? d }

    /// What a held-out device is judged on: the benchmark's held-out part, or all of `d` without a split.
    func judged(_ d: DeviceSamples) -> DeviceSamples { trainingPositions.map { d.split(training: $0).1 } ?? d }

    /// The device whose log reference latencies, centred, are closest (the copy baseline).
    func nearestDevice(to d: DeviceSamples, among others: [DeviceSamples]) -> DeviceSamples {
        func shape(_ s: DeviceSamples) -> [Double] {
            let logs = (s.features?.values ?? []).map { Foundation.log($0) }
            let m = logs.reduce(0, +) / Double(max(logs.count, 1))
            return logs.map { $0 - m }
        }
        let target = shape(d)
        return others.min { a, b in
            zip(shape(a), target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                < zip(shape(b), target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }!
    }

}

extension PredictorBenchmark.Row {
    static let header = "device            metric   ρ        τ        MAPE %   RMSE      ±10 %"

    var line: String {
        let m = metrics
        return [device.padding(toLength: 16, withPad: " ", startingAt: 0), metric.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0),
                String(format: "%.4f", m.spearman), String(format: "%.4f", m.kendall), String(format: "%7.2f", m.mape),
                String(format: "%8.3f", m.rmse) + " " + metric.unit.padding(toLength: 2, withPad: " ", startingAt: 0), String(format: "%6.1f", m.within10)]
            .joined(separator: "  ") + (baselineSpearman.map { String(format: "   (nearest-device copy ρ %.4f)", $0) } ?? "")
    }
}

/// Renders benchmark rows with their summary line.
public func benchmarkTable(title: String, rows: [PredictorBenchmark.Row]) -> String {
    let rhos = rows.map(\.metrics.spearman), within = rows.map(\.metrics.within10).sorted()
    let worst = rows.min { $0.metrics.spearman < $1.metrics.spearman }
    var lines = [title, PredictorBenchmark.Row.header] + rows.map(\.line)
    lines.append(String(format: "mean ρ %.4f, median ±10 %% share %.1f %%, worst %@ (ρ %.4f)",
                        rhos.reduce(0, +) / Double(max(rhos.count, 1)), within.isEmpty ? 0 : within[within.count / 2],
                        worst?.device ?? "-", worst?.metrics.spearman ?? 0))
    let baselines = rows.compactMap(\.baselineSpearman)
    if !baselines.isEmpty {
        lines.append(String(format: "nearest-device copy baseline: mean ρ %.4f", baselines.reduce(0, +) / Double(baselines.count)))
    }
    return lines.joined(separator: "\n")
}
