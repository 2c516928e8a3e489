/// A JSON decoding failure as one line that names where in the file it is and what was wrong,
/// instead of Foundation's multi-line dump of coding paths and underlying errors.
public struct DecodingProblem: CustomStringConvertible, Sendable {
    public let description: String

    public init(_ error: Error) {
        func place(_ path: [CodingKey], _ last: CodingKey? = nil) -> String {
            let keys = path + (last.map { [$0] } ?? [])
            let text = keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : String(text.drop { $0 == "." })
        }
        switch error as? DecodingError {
        case .typeMismatch(let type, let context)?:
            description = "\(place(context.codingPath)) is not \(Self.article(type))"
        case .valueNotFound(let type, let context)?:
            description = "\(place(context.codingPath)) is null where \(Self.article(type)) belongs"
        case .keyNotFound(let key, let context)?:
            description = "\(place(context.codingPath, key)) is missing"
        case .dataCorrupted(let context)?:
            description = "\(place(context.codingPath)): \(context.debugDescription)"
        default:
            description = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "unreadable"
        }
    }

    static func article(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "Float", "Double": return "a number"
        case "Int", "Int64", "Int32", "UInt64": return "an integer"
        case "String": return "a string"
        case "Bool": return "true or false"
        case let name where name.hasPrefix("Array"): return "a list"
        case let name where name.hasPrefix("Dictionary"): return "an object"
        default: return "a \(type)"
        }
    }
}
