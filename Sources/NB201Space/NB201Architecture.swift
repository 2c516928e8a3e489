import SpaceCore

/// One of the five operations an NB201 edge can carry, in the benchmark's order.
public enum NB201Operation: Int, CaseIterable, Codable, Sendable {
    case none = 0, skipConnect, conv1x1, conv3x3, averagePool3x3

    /// The name used in NB201 architecture strings.
    public var name: String {
        switch self {
        case .none: return "none"
        case .skipConnect: return "skip_connect"
        case .conv1x1: return "nor_conv_1x1"
        case .conv3x3: return "nor_conv_3x3"
        case .averagePool3x3: return "avg_pool_3x3"
        }
    }

    /// The operation with NB201 name `name`.
    public init?(name: String) {
        guard let op = NB201Operation.allCases.first(where: { $0.name == name }) else { return nil }
        self = op
    }
}

/// An NB201 cell: one operation on each of the 6 edges i→j (i < j) of a 4-node DAG.
///
/// Edges are ordered as in the architecture string: 0→1, 0→2, 1→2, 0→3, 1→3, 2→3.
public struct NB201Architecture: Hashable, Codable, Sendable, CustomStringConvertible {
    /// (source, target) node of each edge, in string order.
    public static let edges: [(source: Int, target: Int)] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    public static let edgeCount = 6
    public static let operationCount = NB201Operation.allCases.count
    /// Number of architectures in the space: 5⁶.
    public static let spaceSize = 15_625

    /// Whether `indices` are official NB201 indices (0..<15625), each at most once.
    public static func areDistinctIndices(_ indices: [Int]) -> Bool {
        indices.allSatisfy { (0..<spaceSize).contains($0) } && Set(indices).count == indices.count
    }
    /// The grammar of an architecture string, for error messages.
    public static let formatHelp =
        "|op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"

    /// The operation of each edge, in string order.
    public let operations: [NB201Operation]

    /// An architecture from its six edge operations in string order.
    public init(operations: [NB201Operation]) {
        precondition(operations.count == Self.edgeCount, "NB201 needs 6 edge operations, got \(operations.count)")
        self.operations = operations
    }

    /// Parses an NB201 string such as `|nor_conv_3x3~0|+|none~0|skip_connect~1|+|…~0|…~1|…~2|`.
    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        func fail(_ problem: String) -> ArchitectureFormatError { ArchitectureFormatError(space: .nb201, input: text, problem: problem, expected: NB201SearchSpace().formatHelp) }
        guard s.hasPrefix("|"), s.hasSuffix("|"), s.count > 2 else { throw fail("it must start and end with '|'") }
        let nodes = s.dropFirst().dropLast().components(separatedBy: "|+|")
        guard nodes.count == 3 else { throw fail("found \(nodes.count) node groups separated by '|+|', need 3") }
        var ops: [NB201Operation] = []
        for (n, group) in nodes.enumerated() {
            let items = group.split(separator: "|", omittingEmptySubsequences: false)
            guard items.count == n + 1 else {
                throw fail("node \(n + 1) has \(items.count) incoming edges, need \(n + 1)")
            }
            for (source, item) in items.enumerated() {
                let parts = item.split(separator: "~", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("edge '\(item)' is not op~source") }
                guard let op = NB201Operation(name: String(parts[0])) else {
                    throw fail("unknown operation '\(parts[0])'")
                }
                guard Int(parts[1]) == source else {
                    throw fail("edge '\(item)' into node \(n + 1) must come from node \(source)")
                }
                ops.append(op)
            }
        }
        self.init(operations: ops)
    }

    /// The canonical NB201 string.
    public var string: String {
        var groups: [String] = []
        var k = 0
        for target in 1...3 {
            var items: [String] = []
            for source in 0..<target { items.append("\(operations[k].name)~\(source)"); k += 1 }
            groups.append("|" + items.joined(separator: "|") + "|")
        }
        return groups.joined(separator: "+")
    }

    public var description: String { string }

    /// A dense number in 0..<15,625 (edge 0 least significant, base 5). Not the official index.
    public var code: Int { operations.reversed().reduce(0) { $0 * 5 + $1.rawValue } }

    /// The architecture with dense number `code` (see `code`).
    public init(code: Int) {
        precondition((0..<Self.spaceSize).contains(code), "NB201 code \(code) outside 0..<15625")
        var c = code
        var ops: [NB201Operation] = []
        for _ in 0..<Self.edgeCount { ops.append(NB201Operation(rawValue: c % 5)!); c /= 5 }
        self.init(operations: ops)
    }

    /// Edges with a 1×1 or 3×3 convolution (0 for a parameter-free cell).
    public var convolutionCount: Int { operations.filter { $0 == .conv1x1 || $0 == .conv3x3 }.count }

    /// The 30-dimensional one-hot encoding, edge-major (edge e, op o at 5·e + o).
    public var oneHotEncoding: [Float] {
        var v = [Float](repeating: 0, count: Self.edgeCount * Self.operationCount)
        for (e, op) in operations.enumerated() { v[e * Self.operationCount + op.rawValue] = 1 }
        return v
    }
}

import Foundation
