import Autodiff
import DeviceModel
import Foundation
import SearchSpaces

/// One device's training data: measured (or benchmark) latencies or energies of architectures of one space.
public struct DeviceSamples: Sendable {
    public var device: String
    /// The device's features (required for meta training).
    public var features: DeviceFeatures?
    public var space: SpaceName
    /// Canonical architecture strings.
    public var architectures: [String]
    /// The space's encoding of each architecture.
    public var encodings: [[Float]]
    /// What `values` are.
    public var metric: DeviceMetric
    /// One value per architecture, in the metric's unit.
    public var values: [Double]
    /// The clock of a measured device's latencies (nil for a benchmark table's values).
    public var latencyClock: LatencyClock?

    public init<S: SearchSpace>(device: String, features: DeviceFeatures?, space: S, architectures: [S.Architecture],
                                metric: DeviceMetric = .latency, values: [Double], latencyClock: LatencyClock? = nil) {
        self.device = device
        self.metric = metric
        self.latencyClock = latencyClock
        self.features = features
        self.space = space.name
        self.architectures = architectures.map(space.string(of:))
        encodings = architectures.map(space.oneHotEncoding(of:))
        self.values = values
    }

    /// What the values are, for labels: "median thread CPU time (measured)", "benchmark table energy".
    public var valueLabel: String {
        switch (metric, latencyClock) {
        case (.latency, let clock?): return "\(clock.label) (measured)"
        case (.energy, _?): return "energy per inference (measured)"
        default: return "benchmark table \(metric)"
        }
    }

    /// The samples at `positions`, in that order.
    public func subset<C: Collection>(_ positions: C) -> DeviceSamples where C.Element == Int {
        var s = self
        s.architectures = positions.map { architectures[$0] }
        s.encodings = positions.map { encodings[$0] }
        s.values = positions.map { values[$0] }
        return s
    }
}

extension DeviceSamples {
    /// The samples at `positions` to train on, and the rest.
    public func split(training positions: Set<Int>) -> (DeviceSamples, DeviceSamples) {
        return (subset(architectures.indices.filter(positions.contains)), subset(architectures.indices.filter { !positions.contains($0) }))
    }

    /// A seeded split: `count` samples to train on and the rest.
    public func split(count: Int, seed: UInt64) -> (DeviceSamples, DeviceSamples) {
        var rng = SeededGenerator(seed: seed &+ 17)
        var order = Array(architectures.indices)
        rng.shuffle(&order)
        let n = min(count, order.count)
        return (subset(order[..<n]), subset(order[n...]))
    }
}

/// Trains predictor files.
public enum PredictorTraining {
    /// The fewest samples a device needs for training.
    public static let minimumSamples = 10

    /// A per-device MLP ensemble on the log of the samples' metric.
    public static func mlp(_ samples: DeviceSamples, configuration: TrainingConfiguration, ensembleSize: Int = 1,
                           referenceArchIndices: [Int]) throws -> PredictorFile {
        try check(samples)
        let encoding = samples.space.space.predictorEncoding
        let rows = Tensor(shape: [samples.encodings.count, encoding.featureCount], scalars: samples.encodings.flatMap(encoding.features))
        let targets = samples.values.map { Float(Foundation.log($0)) }
        let fits = fitEnsemble(rows: rows, targets: targets, configuration: configuration, size: ensembleSize)
        return PredictorFile(format: PredictorFile.formatVersion, kind: .mlp, space: samples.space.rawValue, encoding: encoding.name,
                             device: samples.device, metric: samples.metric, referenceArchIndices: referenceArchIndices, ensemble: fits.map(\.0),
                             training: TrainingSummary(devices: [samples.device], samplesPerDevice: [samples.device: rows.shape[0]],
                                                       configuration: configuration, fits: fits.map(\.1), createdAt: Date(),
                                                       latencies: [samples.device: samples.valueLabel]),
                             metrics: [:])
    }

    /// A meta predictor over several devices, conditioned on their features of the samples'
    /// metric; predicts its log relative to each device's mean log reference value.
    public static func meta(_ devices: [DeviceSamples], configuration: TrainingConfiguration, ensembleSize: Int = 1,
                            referenceArchIndices: [Int]) throws -> PredictorFile {
        guard let space = devices.first?.space, let metric = devices.first?.metric else {
            throw PredictorError.noTrainingData(database: "the training set", metric: .latency)
        }
        let encoding = space.space.predictorEncoding
        var scalars: [Float] = [], targets: [Float] = []
        for d in devices {
            guard d.space == space else {
                throw PredictorError.unusableFeatures(device: d.device, reason: "its samples are of space \(d.space), the others of \(space)")
            }
            guard d.metric == metric else {
                throw PredictorError.unusableFeatures(device: d.device, reason: "its samples are \(d.metric), the others \(metric)")
            }
            try check(d)
            guard let features = d.features else {
                throw PredictorError.unusableFeatures(device: d.device, reason: "no device features (measure the 10 references)")
            }
            let input = try DeviceInput(features, space: space.rawValue, length: referenceArchIndices.count, metric: metric)
            for (x, value) in zip(d.encodings, d.values) {
                scalars += encoding.features(x) + input.values
                targets.append(Float(Foundation.log(value)) - input.logScale)
            }
        }
        let width = encoding.featureCount + referenceArchIndices.count + 1
        let rows = Tensor(shape: [targets.count, width], scalars: scalars)
        let fits = fitEnsemble(rows: rows, targets: targets, configuration: configuration, size: ensembleSize)
        return PredictorFile(format: PredictorFile.formatVersion, kind: .meta, space: space.rawValue, encoding: encoding.name,
                             device: nil, metric: metric, referenceArchIndices: referenceArchIndices, ensemble: fits.map(\.0),
                             training: TrainingSummary(devices: devices.map(\.device),
                                                       samplesPerDevice: Dictionary(uniqueKeysWithValues: devices.map { ($0.device, $0.architectures.count) }),
                                                       configuration: configuration, fits: fits.map(\.1), createdAt: Date(),
                                                       latencies: Dictionary(uniqueKeysWithValues: devices.map { ($0.device, $0.valueLabel) })),
                             metrics: [:])
    }

    /// Fine-tunes every model of a meta predictor on one device's samples (few-shot), starting
    /// from its weights with a lower learning rate; the result stays conditioned on the features.
    public static func adapt(_ meta: PredictorFile, to samples: DeviceSamples, epochs: Int) throws -> PredictorFile {
        guard samples.architectures.count >= minimumSamples else {
            throw PredictorError.tooFewSamples(device: samples.device, found: samples.architectures.count, needed: minimumSamples)
        }
        try check(samples)
        guard let features = samples.features else {
            throw PredictorError.unusableFeatures(device: samples.device, reason: "no device features (measure the 10 references)")
        }
        guard samples.space.rawValue == meta.space, samples.metric == meta.predictedMetric else {
            throw PredictorError.unusableFeatures(device: samples.device, reason: "its samples are \(samples.metric) of space \(samples.space), the predictor's \(meta.predictedMetric) of \(meta.space)")
        }
        let input = try DeviceInput(features, space: meta.space, length: meta.referenceArchIndices.count, metric: samples.metric)
        let encoding = samples.space.space.predictorEncoding
        let rows = Tensor(shape: [samples.encodings.count, encoding.featureCount + input.values.count],
                          scalars: samples.encodings.flatMap { encoding.features($0) + input.values })
        let targets = samples.values.map { Float(Foundation.log($0)) - input.logScale }
        var c = meta.training.configuration
        c.maxEpochs = epochs
        c.batchSize = min(c.batchSize, 32)
        c.learningRate = c.learningRate / 3
        c.validationFraction = 0.2
        c.patience = max(epochs / 4, 5)
        var adapted = meta
        let fits = meta.ensemble.map { Regressor.fit(rows: rows, targets: targets, configuration: c, initial: $0) }
        adapted.ensemble = fits.map(\.0)
        adapted.device = samples.device
        adapted.training.fits += fits.map(\.1)
        adapted.training.samplesPerDevice[samples.device + " (adaptation)"] = samples.architectures.count
        adapted.training.latencies = (adapted.training.latencies ?? [:]).merging([samples.device + " (adaptation)": samples.valueLabel]) { $1 }
        let predicted = try DevicePredictor(file: adapted).objective(device: features).predictions(samples.encodings)
        adapted.metrics["\(samples.device) (adaptation samples)"] = PredictionMetrics(predicted: predicted, truth: samples.values)
        return adapted
    }

    /// `size` regressors that differ only in their seeds.
    public static func fitEnsemble(rows: Tensor, targets: [Float], configuration: TrainingConfiguration,
                                   size: Int) -> [(Regressor, FitReport)] {
        (0..<max(size, 1)).map { k in
            var c = configuration
            c.seed = configuration.seed &+ UInt64(k) &* 7919
            return Regressor.fit(rows: rows, targets: targets, configuration: c)
        }
    }

    static func check(_ d: DeviceSamples) throws {
        guard d.architectures.count >= minimumSamples else {
            throw PredictorError.tooFewSamples(device: d.device, found: d.architectures.count, needed: minimumSamples)
        }
        guard d.values.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw PredictorError.unusableFeatures(device: d.device, reason: "its \(d.metric) values must be finite and positive")
        }
    }
}
