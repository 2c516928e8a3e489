import DataFiles
import DeviceModel
import Foundation
import SearchSpaces

/// A predictor that cannot be used, with what to do about it.
public enum PredictorError: Error, CustomStringConvertible, Equatable {
    case wrongFormat(path: String, found: String)
    case unreadable(path: String, reason: String)
    case unusableFeatures(device: String, reason: String)
    case deviceMismatch(predictor: String, device: String)
    case tooFewSamples(device: String, found: Int, needed: Int)
    case invalid(path: String, reason: String)
    case wrongReferences(device: String, predictor: [Int], features: [Int])
    case noTrainingData(database: String, metric: DeviceMetric)

    public var description: String {
        switch self {
        case .wrongFormat(let path, let found):
            return "\(path) is '\(found)', not \(PredictorFile.formatVersion); retrain it with this modnas (modnas-predict train)"
        case .unreadable(let path, let reason): return "cannot read predictor \(path): \(reason)"
        case .invalid(let path, let reason):
            return "predictor \(path) is inconsistent (\(reason)); retrain it with modnas-predict train or restore the shipped file"
        case .noTrainingData(let database, let metric):
            return metric == .latency ? "no device in \(database) has enough measurements; import or collect first"
                : "no device in \(database) has enough \(metric) measurements; collect on a host whose RAPL counters move (the benchmark tables of NB201 and OFA hold latency only)"
        case .wrongReferences(let device, let predictor, let features):
            return "device features of '\(device)' use reference architectures \(features), the predictor \(predictor); measure the predictor's references"
        case .unusableFeatures(let device, let reason):
            return "device features of '\(device)' are unusable: \(reason); re-measure with modnas-profile collect --host"
        case .deviceMismatch(let predictor, let device):
            return "this MLP predictor was trained for '\(predictor)', not '\(device)'; use a meta predictor for other devices"
        case .tooFewSamples(let device, let found, let needed):
            return "device '\(device)' has \(found) measured architectures, training needs at least \(needed); collect more with modnas-profile collect --host --samples N"
        }
    }
}

/// What a predictor was trained on.
public struct TrainingSummary: Codable, Equatable, Sendable {
    public var devices: [String]
    public var samplesPerDevice: [String: Int]
    public var configuration: TrainingConfiguration
    public var fits: [FitReport]
    public var createdAt: Date
    /// What each device's training values are ("median thread CPU time (measured)",
    /// "benchmark table energy"); nil in files written before it was recorded.
    public var latencies: [String: String]? = nil
}

/// Which inputs a predictor takes.
public enum PredictorKind: String, CaseIterable, Codable, Sendable {
    /// One device: the architecture encoding only.
    case mlp
    /// Any device: the architecture encoding and the device's `DeviceInput`.
    case meta
}

/// An exported latency or energy predictor (`Predictors/*.json`, format `modnas.predictor.v1`).
public struct PredictorFile: Codable, Equatable, Sendable {
    public static let formatVersion = "modnas.predictor.v1"

    public var format: String
    public var kind: PredictorKind
    public var space: String
    public var encoding: String
    /// The device of an MLP predictor.
    public var device: String?
    /// What it predicts. Files written before energy predictors have no field and predict
    /// latency, the only metric then (`predictedMetric` reads them so).
    public var metric: DeviceMetric? = nil
    /// The reference architectures whose values of the metric form the device features (meta).
    public var referenceArchIndices: [Int]
    /// Predicts log(value) for mlp; log(value) − mean log(reference value) for meta, in the
    /// metric's unit. Averaged over the ensemble.
    public var ensemble: [Regressor]
    public var training: TrainingSummary
    /// Held-out metrics by device (architectures or devices not trained on).
    public var metrics: [String: PredictionMetrics]

    /// Reads and checks a predictor file.
    public static func load(_ path: String) throws -> PredictorFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PredictorError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(data, path: path)
    }

    /// Parses and checks the bytes of a predictor file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> PredictorFile {
        let file: PredictorFile
        do { file = try VersionedJSON.decode(PredictorFile.self, from: data, format: formatVersion) } catch {
            switch error {
            case .noFormat: throw PredictorError.unreadable(path: path, reason: "not a JSON predictor file")
            case .otherFormat(let found): throw PredictorError.wrongFormat(path: path, found: found)
            case .damaged(let problem): throw PredictorError.unreadable(path: path, reason: "damaged predictor (\(problem))")
            }
        }
        if let problem = file.problem { throw PredictorError.invalid(path: path, reason: problem) }
        return file
    }

    /// What the predictions are: the file's metric, latency for a file from before the field.
    public var predictedMetric: DeviceMetric { metric ?? .latency }

    /// The input width the ensemble must take: the encoding, and for a meta predictor one value
    /// per reference architecture plus the device's scale.
    public var inputCount: Int {
        architectureEncoding.featureCount + (kind == .meta ? referenceArchIndices.count + 1 : 0)
    }

    /// The space's predictor encoding (NB201's for a file whose space is unknown; `problem` refuses it).
    public var architectureEncoding: ArchitectureEncoding { (SpaceName(rawValue: space) ?? .nb201).space.predictorEncoding }

    /// Refuses a predictor of another space than `space`, in one line.
    public func require(space expected: SpaceName, path: String) throws {
        try expected.require(space, in: "predictor \(path)")
    }

    /// What makes the file unusable, checked before any weight is used; nil when it is sound.
    public var problem: String? {
        guard let name = SpaceName(rawValue: space) else {
            return "space '\(space)', this modnas predicts \(SpaceName.allCases.map(\.rawValue).joined(separator: " and "))"
        }
        let expected = name.space.predictorEncoding.name
        guard encoding == expected else { return "encoding '\(encoding)', expected '\(expected)' for space \(space)" }
        guard !ensemble.isEmpty else { return "the ensemble is empty" }
        switch kind {
        case .mlp:
            guard device?.isEmpty == false else { return "an mlp predictor names no device" }
        case .meta:
            guard !referenceArchIndices.isEmpty else { return "a meta predictor lists no reference architectures" }
        }
        guard Set(referenceArchIndices).count == referenceArchIndices.count,
              referenceArchIndices.allSatisfy({ (0..<name.tableSize).contains($0) }) else {
            return "reference_arch_indices \(referenceArchIndices) are not distinct indices of the \(name.shortName) table"
        }
        for (k, r) in ensemble.enumerated() {
            if let p = r.problem(inputs: inputCount) { return "ensemble member \(k): \(p)" }
        }
        return nil
    }

    /// The shipped file name: `mlp-<device>` or `meta` for latency, `energy-mlp-<device>` or
    /// `energy-meta` for energy, named for the space as feature files are.
    public static func shippedName(device: String?, space: SpaceName, metric: DeviceMetric = .latency) -> String {
        space.fileName(stem: (metric == .energy ? "energy-" : "") + (device.map { "mlp-\($0)" } ?? "meta"))
    }

    /// Whether a file name in a predictor folder is named for `space` (see `shippedName`).
    public static func isNamed(_ fileName: String, for space: SpaceName) -> Bool { SpaceName(fileName: fileName) == space }

    /// Writes the file as JSON.
    public func write(to path: String) throws { try VersionedJSON.write(self, to: path) }
}
