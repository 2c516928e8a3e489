import Foundation

/// A device's feature vector: the latencies of the 10 reference architectures
/// (`Profiles/<device>.json`, format `modnas.device-features.v1`).
public struct DeviceFeatures: Codable, Equatable, Sendable {
    public static let formatVersion = "modnas.device-features.v1"

    public var format: String
    public var device: String
    public var space: String
    /// "measured" for a profiled host, "benchmark" for a shipped table.
    public var source: String
    public var metric: String
    public var referenceArchIndices: [Int]
    public var values: [Double]
    /// The measuring host's fingerprint (nil for benchmark devices).
    public var host: HostFingerprint?

    enum CodingKeys: String, CodingKey {
        case format, device, space, source, metric, host, values
        case referenceArchIndices = "reference_arch_indices"
    }

    public init(device: String, space: String = "nb201", source: String, referenceArchIndices: [Int], values: [Double],
                host: HostFingerprint?) {
        format = Self.formatVersion
        self.device = device
        self.space = space
        self.source = source
        metric = "latency_ms"
        self.referenceArchIndices = referenceArchIndices
        self.values = values
        self.host = host
    }

    /// Writes `<directory>/<device>.json` (creating the directory) and returns its path.
    @discardableResult
    public func write(toDirectory directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = (directory as NSString).appendingPathComponent("\(device).json")
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }
}
