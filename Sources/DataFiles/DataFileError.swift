/// A data file that cannot be used, with what to do about it.
public enum DataFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case missingColumn(path: String, column: String, available: [String])
    case badValue(path: String, line: Int, column: String, value: String, expected: String)
    case wrongRowCount(path: String, expected: Int, found: Int)
    case badRow(path: String, line: Int, reason: String)
    case shippedDataNotFound(relativePath: String, searched: [String])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .corrupt(let path, let reason):
            return "\(path) is damaged (\(reason)); restore it from the repository or re-download it"
        case .missingColumn(let path, let column, let available):
            return "\(path) has no column '\(column)' (columns: \(available.joined(separator: ", ")))"
        case .badValue(let path, let line, let column, let value, let expected):
            return "\(path) line \(line), column '\(column)': '\(value)' is not \(expected)"
        case .wrongRowCount(let path, let expected, let found):
            return "\(path) has \(found) rows, expected \(expected): the file is truncated or not the shipped one"
        case .badRow(let path, let line, let reason):
            return "\(path) line \(line): \(reason)"
        case .shippedDataNotFound(let relativePath, let searched):
            return "cannot find \(relativePath) (looked in \(searched.joined(separator: ", "))); run from the modnas checkout or set MODNAS_HOME to it"
        }
    }
}
