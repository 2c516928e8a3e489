/// A network shape as named parameters (`channels=16`, `sequence-length=256`, `phase=decode`): what
/// the command line sets and a session stores. Each space reads its own parameters, fills in its
/// defaults and refuses any other.
public struct NetworkShape: Codable, Equatable, Sendable, CustomStringConvertible {
    public var parameters: [String: String]

    public init(_ parameters: [String: String] = [:]) { self.parameters = parameters }

    public subscript(name: String) -> String? { parameters[name] }

    /// `name=value` items in name order, joined by commas.
    public var description: String { parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    /// Refuses a parameter outside `known` (a flag given for another space).
    public func check(known: [String], space: SpaceName) throws {
        if let unknown = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw ShapeError.unknownParameter(name: unknown, space: space, known: known)
        }
    }

    /// The integer parameter `name` within `range`, or `defaultValue` when it is not set.
    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = parameters[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ShapeError.badValue(name: name, value: text, expected: "an integer \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// The parameter `name` as one of `T`'s cases, or `defaultValue` when it is not set.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) throws -> T where T.RawValue == String {
        guard let text = parameters[name] else { return defaultValue }
        guard let value = T(rawValue: text) else {
            throw ShapeError.badValue(name: name, value: text, expected: T.allCases.map(\.rawValue).joined(separator: " or "))
        }
        return value
    }
}

/// A shape parameter the space does not have, or a value outside its range.
public enum ShapeError: Error, Equatable, CustomStringConvertible {
    case unknownParameter(name: String, space: SpaceName, known: [String])
    case badValue(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .unknownParameter(name, space, known):
            return "--\(name) is not a network shape parameter of space \(space) ("
                + (known.isEmpty ? "its networks have a fixed shape" : "its parameters: \(known.map { "--\($0)" }.joined(separator: ", "))")
                + "); leave it out"
        case let .badValue(name, value, expected):
            return "--\(name) '\(value)' is not valid; give \(expected)"
        }
    }
}
