import SearchSpaces

/// A device description that cannot be used, with what to do about it.
public enum DeviceModelError: Error, CustomStringConvertible, Equatable {
    case badFeatureFile(path: String, reason: String)
    case badDeviceName(name: String)
    case shadowsBenchmark(name: String)
    case wrongSpace(device: String, expected: String, found: String)
    case wrongFeatureLength(device: String, expected: Int, found: Int)
    case unusableFeatures(device: String, reason: String)
    case unknownMetric(String)
    case noEnergy(device: String, space: String, reason: String)

    public var description: String {
        switch self {
        case .badFeatureFile(let path, let reason):
            return "\(path) is not a usable \(DeviceFeatures.formatVersion) file (\(reason)); write one with modnas-profile features"
        case .badDeviceName(let name):
            return "device name \(String(reflecting: name)) is not a name: use \(DeviceName.rule)"
        case .wrongSpace(let device, let expected, let found):
            let file = SpaceName(rawValue: expected).map { DeviceFeatures.fileName(device: device, space: $0) } ?? "\(device).\(expected).json"
            return "device features of '\(device)' are for space '\(found)', this model is for '\(expected)'; use the device's \(file)"
        case .wrongFeatureLength(let device, let expected, let found):
            return "device features of '\(device)' have \(found) values, the model needs \(expected) (one per reference architecture)"
        case .unusableFeatures(let device, let reason):
            return "device features of '\(device)' are unusable: \(reason); re-measure with modnas-profile collect --host"
        case .unknownMetric(let name):
            return "unknown metric '\(name)'; give one of \(DeviceMetric.allCases.map(\.rawValue).joined(separator: ", "))"
        case .noEnergy(let device, let space, let reason):
            return "device '\(device)' has no energy in space \(space) (\(reason)); leave energy out of its objectives, or profile it on a host with RAPL"
        case .shadowsBenchmark(let name):
            return "'\(name)' is a benchmark device; give this host another --device name (or --force to replace the benchmark's features)"
        }
    }
}
