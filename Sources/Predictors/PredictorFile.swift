import Foundation

/// A predictor that cannot be used, with what to do about it.
public enum PredictorError: Error, CustomStringConvertible, Equatable {
    case wrongFormat(path: String, found: String)
    case unreadable(path: String, reason: String)
    case wrongFeatureLength(device: String, expected: Int, found: Int)
    case wrongSpace(device: String, expected: String, found: String)
    case badLatency(device: String, reason: String)
    case deviceMismatch(predictor: String, device: String)
    case tooFewSamples(device: String, found: Int, needed: Int)

    public var description: String {
        switch self {
        case .wrongFormat(let path, let found):
            return "\(path) is '\(found)', not \(PredictorFile.formatVersion); retrain it with this modnas (modnas-predict train)"
        case .unreadable(let path, let reason): return "cannot read predictor \(path): \(reason)"
        case .wrongFeatureLength(let device, let expected, let found):
            return "device features of '\(device)' have \(found) values, the predictor needs \(expected) (one per reference architecture)"
        case .wrongSpace(let device, let expected, let found):
            return "device features of '\(device)' are for space '\(found)', the predictor is for '\(expected)'"
        case .badLatency(let device, let reason):
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
}

/// An exported latency predictor (`Predictors/*.json`, format `modnas.predictor.v1`).
public struct PredictorFile: Codable, Equatable, Sendable {
    public static let formatVersion = "modnas.predictor.v1"

    public var format: String
    /// "mlp" (one device) or "meta" (conditioned on device features).
    public var kind: String
    public var space: String
    public var encoding: String
    /// The device of an MLP predictor.
    public var device: String?
    /// The reference architectures whose latencies form the device features (meta).
    public var referenceArchIndices: [Int]
    /// Predicts log(milliseconds) for mlp; log(ms) − mean log(reference ms) for meta. Averaged over the ensemble.
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
        struct Header: Decodable { var format: String? }
        let header = try? JSONDecoder().decode(Header.self, from: data)
        guard let format = header?.format else { throw PredictorError.unreadable(path: path, reason: "not a JSON predictor file") }
        guard format == formatVersion else { throw PredictorError.wrongFormat(path: path, found: format) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(PredictorFile.self, from: data) } catch {
            throw PredictorError.unreadable(path: path, reason: "damaged predictor (\(error))")
        }
    }

    /// Writes the file as JSON.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
