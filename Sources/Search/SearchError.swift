import SearchSpaces

/// A search input that cannot be used, with what to do about it.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    case badFile(reason: String)
    case wrongFormat(path: String, found: String, expected: String)
    case noTrainingDevices(directory: String)
    case badFronts(path: String, line: Int, reason: String)
    case badConfiguration(String)

    public var description: String {
        switch self {
        case .badFile(let reason): return reason
        case .wrongFormat(let path, let found, let expected):
            return "\(path) is '\(found)', not \(expected); rerun modnas search with this modnas to produce it"
        case .noTrainingDevices(let directory):
            return "no device in \(directory) has a latency predictor (mlp-<device>.json in --predictors) or enough measurements in --db; "
                + "train one with modnas-predict train or measure the host with modnas-profile collect --host --samples 40"
        case .badFronts(let path, let line, let reason):
            return "\(path) line \(line): \(reason); fronts CSV columns are \(Fronts.columns(of: SpaceName.nb201.space).joined(separator: ",")), with OFA's ks,e,d,r after arch_string"
        case .badConfiguration(let reason): return reason
        }
    }
}
