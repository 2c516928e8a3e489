import DataFiles
import Foundation
import SearchSpaces
import Statistics

/// A device's feature vectors: the latencies of the 10 reference architectures and, where the
/// device has energy, their energies (`Profiles/<device>.json`, format `modnas.device-features.v1`).
public struct DeviceFeatures: Codable, Equatable, Sendable {
    public static let formatVersion = "modnas.device-features.v1"

    public var format: String
    public var device: String
    public var space: String
    /// Measured for a profiled host, benchmark for a shipped table.
    public var source: DataSource
    public var metric: String
    public var referenceArchIndices: [Int]
    /// The references' latencies, ms.
    public var values: [Double]
    /// The references' energies, joules per inference, in the same order; nil when the device
    /// has none (`energyAbsentReason` says why; files written before energy was read have neither).
    public var energyValues: [Double]?
    /// Why the device has no energy vector (no RAPL on the host, a latency-only benchmark).
    public var energyAbsentReason: String?
    /// The measuring host's fingerprint (nil for benchmark devices).
    public var host: HostFingerprint?
    /// Which clock a measured device's values are medians of (nil for benchmark devices, whose
    /// tables hold their own latency; a measured file written before this field holds wall time).
    public var latencyClock: LatencyClock?
    /// How well the measuring session repeated (nil for benchmark devices and sessions without a check).
    public var repeatability: Repeatability?

    enum CodingKeys: String, CodingKey {
        case format, device, space, source, metric, host, values, repeatability
        case referenceArchIndices = "reference_arch_indices"
        case latencyClock = "latency_clock"
        case energyValues = "energy_values"
        case energyAbsentReason = "energy_absent_reason"
    }

    public init(device: String, space: String = "nb201", source: DataSource, referenceArchIndices: [Int], values: [Double],
                host: HostFingerprint?, latencyClock: LatencyClock? = nil, repeatability: Repeatability? = nil,
                energyValues: [Double]? = nil, energyAbsentReason: String? = nil) {
        format = Self.formatVersion
        self.device = device
        self.space = space
        self.source = source
        metric = "latency_ms"
        self.referenceArchIndices = referenceArchIndices
        self.values = values
        self.host = host
        self.latencyClock = latencyClock
        self.repeatability = repeatability
        self.energyValues = energyValues
        self.energyAbsentReason = energyValues == nil ? energyAbsentReason : nil
    }

    /// The reference values of `metric`; a device without energy is refused in one line with the reason.
    public func values(of metric: DeviceMetric) throws -> [Double] {
        switch metric {
        case .latency: return values
        case .energy:
            guard let energyValues else {
                throw DeviceModelError.noEnergy(device: device, space: space,
                                                reason: energyAbsentReason ?? "its feature file holds latencies only; write it again with modnas-profile features")
            }
            return energyValues
        }
    }

    /// The clock of the values: a measured file without the field was written when wall time was the only one.
    public var clock: LatencyClock? { source == .measured ? latencyClock ?? .wall : nil }

    /// What the values are, for labels: "median thread CPU time (measured)", "benchmark table latency".
    public var latencyLabel: String { clock.map { "\($0.label) (measured)" } ?? "benchmark table latency" }

    /// The file name of a device's features: `<device>.json` for NB201 (the first space, whose
    /// files keep their name), `<device>.<space>.json` for the others, so one folder holds a
    /// device's vectors of every space side by side.
    public static func fileName(device: String, space: SpaceName) -> String {
        space.fileName(stem: device)
    }

    /// Writes `<directory>/<fileName>` (creating the directory) and returns its path. The name
    /// must be a `DeviceName`; a measured device replaces a benchmark device's file only with `force`.
    @discardableResult
    public func write(toDirectory directory: String, force: Bool = false) throws -> String {
        let spaceName = try SpaceName(parsing: space)
        if source == .measured {
            try DeviceName.checkMeasured(device, space: spaceName, profilesDirectory: directory, force: force)
        } else {
            try DeviceName.check(device)
        }
        let path = (directory as NSString).appendingPathComponent(Self.fileName(device: device, space: spaceName))
        try VersionedJSON.write(self, to: path, pretty: true)
        return path
    }

    /// Plausible latencies, 1 µs to 10⁶ s: outside, a value is a unit mix-up or damage.
    public static let latencyRangeMs = DeviceMetric.latency.plausibleRange

    /// What makes the features unusable: an unknown source, references that are not distinct
    /// architectures of the space, or latencies that are not one positive, finite value each.
    public var problem: String? {
        guard metric == "latency_ms" else { return "metric '\(metric)', expected latency_ms" }
        guard !values.isEmpty, values.count == referenceArchIndices.count else {
            return "\(values.count) values for \(referenceArchIndices.count) reference architectures"
        }
        guard let spaceName = SpaceName(rawValue: space) else { return "\(UnknownSpaceError(name: space))" }
        let tableSize = spaceName.tableSize
        guard referenceArchIndices.allSatisfy((0..<tableSize).contains), Set(referenceArchIndices).count == referenceArchIndices.count else {
            return "reference_arch_indices \(referenceArchIndices) are not distinct \(spaceName.shortName) table indices 0…\(tableSize - 1)"
        }
        guard values.allSatisfy(Self.latencyRangeMs.contains) else { return "latencies must be finite milliseconds within 0.001…1e9" }
        if let energyValues {
            guard energyValues.count == values.count else { return "\(energyValues.count) energy values for \(values.count) reference architectures" }
            guard energyValues.allSatisfy(DeviceMetric.energy.plausibleRange.contains) else { return "energies must be finite joules within 1e-9…1e7" }
            guard energyAbsentReason == nil else { return "energy_values and energy_absent_reason are both given" }
        }
        guard source == .measured || (latencyClock == nil && repeatability == nil) else {
            return "a benchmark device's file has no latency_clock or repeatability (they describe a measured host)"
        }
        if let problem = repeatability?.problem { return problem }
        return nil
    }

    /// Reads one feature file.
    public static func load(_ path: String) throws -> DeviceFeatures {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DeviceModelError.badFeatureFile(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Parses and checks the bytes of a feature file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> DeviceFeatures {
        let features: DeviceFeatures
        do { features = try VersionedJSON.decode(DeviceFeatures.self, from: data, format: formatVersion) } catch {
            switch error {
            case .noFormat: throw DeviceModelError.badFeatureFile(path: path, reason: "not JSON with a \"format\" field")
            case .otherFormat(let found): throw DeviceModelError.badFeatureFile(path: path, reason: "format is '\(found)'")
            case .damaged(let problem): throw DeviceModelError.badFeatureFile(path: path, reason: "\(problem)")
            }
        }
        do { try DeviceName.check(features.device) } catch {
            throw DeviceModelError.badFeatureFile(path: path, reason: "\(error)")
        }
        if let problem = features.problem { throw DeviceModelError.badFeatureFile(path: path, reason: problem) }
        return features
    }

    /// The feature files of `space`: those of a directory's `*.json` files that are of that
    /// space (sorted by device; files of other spaces are skipped), or the one file at `path`,
    /// refused in one line when it is of another space.
    public static func loadAll(_ path: String, space: SpaceName) throws -> [DeviceFeatures] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DeviceModelError.badFeatureFile(path: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else {
            let features = try load(path)
            try space.require(features.space, in: path)
            return [features]
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
        let all = try names.map { try load((path as NSString).appendingPathComponent($0)) }.filter { $0.space == space.rawValue }
        guard !all.isEmpty else {
            throw DeviceModelError.badFeatureFile(path: path, reason: "the directory holds no .json feature files of space \(space)")
        }
        return all.sorted { $0.device < $1.device }
    }
}
