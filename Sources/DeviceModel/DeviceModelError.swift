/// A device description that cannot be used, with what to do about it.
public enum DeviceModelError: Error, CustomStringConvertible, Equatable {
    case badFeatureFile(path: String, reason: String)
    case badDeviceName(name: String)
    case shadowsBenchmark(name: String)

    public var description: String {
        switch self {
        case .badFeatureFile(let path, let reason):
            return "\(path) is not a usable \(DeviceFeatures.formatVersion) file (\(reason)); write one with modnas-profile features"
        case .badDeviceName(let name):
            return "device name \(String(reflecting: name)) is not a name: use \(DeviceName.rule)"
        case .shadowsBenchmark(let name):
            return "'\(name)' is a benchmark device; give this host another --device name (or --force to replace the benchmark's features)"
        }
    }
}
