import Autodiff
import DataFiles

/// One categorical decision of a space (an edge's operation, a layer's kernel size, …).
public struct Decision: Equatable, Sendable {
    public var name: String
    /// The choices in encoding order, as the architecture string names them.
    public var choices: [String]

    public init(name: String, choices: [String]) {
        self.name = name
        self.choices = choices
    }
}

/// A reference architecture: its position in a device feature vector and its index in the
/// space's benchmark table (`reference_arch_indices` of feature files).
public struct ReferenceArchitecture<Architecture: Sendable>: Sendable {
    public var position: Int
    public var index: Int
    public var architecture: Architecture

    public init(position: Int, index: Int, architecture: Architecture) {
        self.position = position
        self.index = index
        self.architecture = architecture
    }
}

extension ReferenceArchitecture {
    /// The references a shipped CSV (`position`, `arch_index`) names, as rows of the space's
    /// shipped table `table` (file `tableFile`, for errors).
    public static func read(_ file: String, table: [Architecture], tableFile: String) throws -> [ReferenceArchitecture] {
        let csv = try CSVTable(contentsOf: ShippedData.path(file))
        return try zip(try csv.column("position"), try csv.column("arch_index")).enumerated().map { row, item in
            guard let p = Int(item.0), let i = Int(item.1), table.indices.contains(i) else {
                throw DataFileError.badValue(path: csv.path, line: row + 2, column: "arch_index", value: item.1,
                                             expected: "a position and a row 0…\(table.count - 1) of \(tableFile)")
            }
            return ReferenceArchitecture(position: p, index: i, architecture: table[i])
        }
    }
}

/// A network built for inference (batch norm folded where the space does so).
public protocol InferenceNetwork: AnyObject {
    /// The input shape: [batch, channels, height, width] for images, [batch, tokens] for token ids.
    func inputShape(batch: Int) -> [Int]
    /// Logits ([batch, classes]; [batch · tokens, vocabulary] for a language model), recording no tape.
    func infer(_ input: Tensor) -> Tensor
    /// A seeded input of `batch` samples for timing: images uniform in [−1, 1] (the default),
    /// token ids below the vocabulary for a language model.
    func sampleInput(batch: Int, using rng: inout SeededGenerator) -> Tensor
}

extension InferenceNetwork {
    public func sampleInput(batch: Int, using rng: inout SeededGenerator) -> Tensor {
        Tensor.uniform(shape: inputShape(batch: batch), low: -1, high: 1, using: &rng)
    }
}

/// A network that can be written as deployed: an `InferenceGraph` with batch norm folded and
/// dead branches removed (what ONNX export writes).
public protocol DeployableNetwork: InferenceNetwork {
    func inferenceGraph(batch: Int) -> InferenceGraph
}

/// A deployed graph as an inference network: what the profiler times in the engine, the graph
/// an exported model holds.
public final class DeployedNetwork: InferenceNetwork {
    public let graph: InferenceGraph

    public init(_ graph: InferenceGraph) { self.graph = graph }

    /// The graph's input shape (built for one batch size; `batch` must be it).
    public func inputShape(batch: Int) -> [Int] {
        precondition(batch == graph.inputShape[0], "a deployed graph is built for batch \(graph.inputShape[0])")
        return graph.inputShape
    }

    public func infer(_ images: Tensor) -> Tensor { graph.run(images) }
}

/// A search space: the seam every other module uses instead of one space's types.
///
/// An architecture value has a canonical string (`parse` and `string(of:)` round-trip) and a
/// choice per decision (`choices(of:)`, `architecture(choices:)`); several choice vectors may
/// name one architecture (OFA's skipped layers), the architecture value is canonical.
public protocol SearchSpace: Sendable {
    associatedtype Architecture: Hashable & Sendable

    var name: SpaceName { get }
    /// What the space is, for help texts and tables.
    var title: String { get }
    /// Rows of the space's benchmark table (the range of `arch_index`).
    var tableSize: Int { get }
    /// The space at the network shape `setting` names (its defaults for unset parameters); a
    /// parameter of another space, or a bad value, is refused in one line.
    func reshaped(_ setting: NetworkShape) throws -> Self
    /// The loss its accuracy objective minimises (test error, perplexity).
    var accuracyLoss: AccuracyLoss { get }
    /// The grammar of an architecture string, for error messages.
    var formatHelp: String { get }
    var decisions: [Decision] { get }

    /// Parses a canonical string; the error is one line that shows the expected form.
    func parse(_ text: String) throws -> Architecture
    func string(of architecture: Architecture) -> String
    func choices(of architecture: Architecture) -> [Int]
    func architecture(choices: [Int]) -> Architecture

    /// Width of `oneHotEncoding` and of `relaxedEncoding`'s output.
    var encodingWidth: Int { get }
    func oneHotEncoding(of architecture: Architecture) -> [Float]
    /// The encoding of a relaxed architecture: per-decision probabilities, concatenated in
    /// decision order ([Σ choices]), mapped differentiably to [encodingWidth]; for a one-hot
    /// input it equals `oneHotEncoding`.
    func relaxedEncoding(_ probabilities: Variable) -> Variable
    /// The latency and energy predictors' input: a fixed linear map of the encoding.
    var predictorEncoding: ArchitectureEncoding { get }
    /// The accuracy surrogate's input features (default: the predictors' encoding, never gated).
    var surrogateFeatures: SurrogateFeatures { get }
    /// The benchmark's differentiable model of the loss, where it ships one (nil: none).
    func benchmarkLossModel() throws -> (any BenchmarkLossModel)?

    /// `count` distinct architectures from seed `seed`, each decision drawn uniformly.
    func sample(count: Int, seed: UInt64) -> [Architecture]
    /// The 10 reference architectures whose latencies are a device's feature vector.
    func referenceArchitectures() throws -> [ReferenceArchitecture<Architecture>]
    /// A lookup of the benchmark table's index of an architecture (nil: not in the table).
    func tableIndexer() throws -> (Architecture) -> Int?
    func cost(of architecture: Architecture) -> ArchitectureCost
    func makeNetwork(_ architecture: Architecture, seed: UInt64) -> DeployableNetwork
    /// A trainable network of `architecture` for `input` [channels, height, width] and `classes`
    /// (nil: the space has no trainable builder yet, so no stand-alone training or proxies).
    func makeTrainableNetwork(_ architecture: Architecture, input: [Int], classes: Int, seed: UInt64) -> TrainableNetwork?
    /// Every architecture, or nil when the space is too large to list.
    func enumeration() -> [Architecture]?
    /// The fixed network shape as `key=value` items, for configuration keys.
    var shapeDescription: [String] { get }
    /// The shape's settable parameters with their values (the command line's names).
    var networkShape: NetworkShape { get }
    /// What a measured device's default name adds for this shape ("" where the shape is not
    /// part of the name).
    var deviceNameSuffix: String { get }
    /// An estimate of the bytes the deployed network of `architecture` needs at `batch`, for
    /// refusing sizes beyond a host's memory before measuring (nil: the space gives none).
    func deployedMemoryBytes(of architecture: Architecture, batch: Int) -> Double?

    /// The shipped benchmark's device table (latency, and energy where it has it, per device and
    /// architecture) and feature table (each device's reference values), relative to the package.
    var shippedBenchmark: (deviceTable: String, featureTable: String) { get }

    /// The benchmark's own split of its architectures for judging predictors: the `arch_index`
    /// rows it trains on (nil: it defines none, and predictors are judged on a seeded split).
    func benchmarkTrainingRows() throws -> Set<Int>?

    /// CSV columns written beside `arch_string` (OFA: ks, e, d, r), and their values.
    var tableColumns: [String] { get }
    func tableValues(of architecture: Architecture) -> [String]
    /// The architectures of a CSV table's rows: its `arch_string` column, or the space's own
    /// columns; a bad row is named by its line.
    func architectures(in table: CSVTable) throws -> [Architecture]
}

extension SearchSpace {

    public var tableColumns: [String] { [] }
    public var surrogateFeatures: SurrogateFeatures { SurrogateFeatures(linear: predictorEncoding) }
    public func benchmarkLossModel() throws -> (any BenchmarkLossModel)? { nil }
    public var deviceNameSuffix: String { "" }
    public func benchmarkTrainingRows() throws -> Set<Int>? { nil }
    public func deployedMemoryBytes(of architecture: Architecture, batch: Int) -> Double? { nil }
    public func makeTrainableNetwork(_ architecture: Architecture, input: [Int], classes: Int, seed: UInt64) -> TrainableNetwork? { nil }
    public func tableValues(of architecture: Architecture) -> [String] { [] }

    public func architectures(in table: CSVTable) throws -> [Architecture] { try architectures(inStringColumnOf: table) }

    /// The architectures of a table's `arch_string` column; a bad row is named by its line.
    public func architectures(inStringColumnOf table: CSVTable) throws -> [Architecture] {
        try table.column("arch_string").enumerated().map { row, text in
            do { return try parse(text) } catch {
                throw DataFileError.badRow(path: table.path, line: row + 2, reason: "\(error)")
            }
        }
    }

    /// Whether `text` is a canonical architecture string of the space.
    public func isArchitecture(_ text: String) -> Bool { (try? parse(text)) != nil }

    /// The references as the store names them: (table index, canonical string), in feature order.
    public func referenceStrings() throws -> [(index: Int, string: String)] {
        try referenceArchitectures().map { ($0.index, string(of: $0.architecture)) }
    }

    /// Number of choices summed over the decisions (the width of the relaxed input).
    public var choiceCount: Int { decisions.reduce(0) { $0 + $1.choices.count } }

    /// A relaxed architecture strictly inside the simplex of every decision: random
    /// probabilities, each at least `floor` before normalising (finite differences stay inside).
    public func randomRelaxation(using rng: inout SeededGenerator, floor: Float = 0.2) -> [Float] {
        decisions.flatMap { d in
            let raw = (0..<d.choices.count).map { _ in floor + rng.nextUniform() }
            let total = raw.reduce(0, +)
            return raw.map { $0 / total }
        }
    }

    /// The one-hot of every decision, concatenated in decision order.
    public func decisionOneHot(_ architecture: Architecture) -> [Float] {
        var v = [Float](repeating: 0, count: choiceCount)
        var offset = 0
        for (decision, choice) in zip(decisions, choices(of: architecture)) {
            v[offset + choice] = 1
            offset += decision.choices.count
        }
        return v
    }
}

/// The spaces modnas knows, by the name the command line and files use.
public enum SpaceName: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case nb201, ofa, gpt

    public var description: String { rawValue }

    /// The file of `stem` for this space: `<stem>.json` for NB201, `<stem>.<space>.json` for the
    /// others (device feature files and shipped predictors are named so).
    public func fileName(stem: String) -> String {
        self == .nb201 ? "\(stem).json" : "\(stem).\(rawValue).json"
    }

    /// The space a file is named for by `fileName(stem:)`, or nil for a name that is not `.json`.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".json") else { return nil }
        let stem = fileName.dropLast(5)
        self = SpaceName.allCases.first { $0 != .nb201 && stem.hasSuffix(".\($0.rawValue)") } ?? .nb201
    }

    /// The name in messages ("NB201", "OFA").
    public var shortName: String { rawValue.uppercased() }

    /// The space named `text`, or a one-line error listing the names.
    public init(parsing text: String) throws {
        guard let name = SpaceName(rawValue: text) else { throw UnknownSpaceError(name: text) }
        self = name
    }

    /// Refuses a file of another space: `what` names the file or value in the message.
    public func require(_ found: String, in what: String) throws {
        guard found == rawValue else { throw SpaceMismatchError(expected: self, found: found, what: what) }
    }
}

/// A malformed architecture string or row; the message shows the expected form.
public struct ArchitectureFormatError: Error, CustomStringConvertible, Equatable {
    public let space: SpaceName
    public let input: String
    public let problem: String
    /// The space's grammar (`SearchSpace.formatHelp`).
    public let expected: String

    public init(space: SpaceName, input: String, problem: String, expected: String) {
        (self.space, self.input, self.problem, self.expected) = (space, input, problem, expected)
    }

    public var description: String {
        // The input as one escaped line, cut short: a whole file given by mistake stays one line.
        let shown = input.count > 120 ? String(input.prefix(120)) + "…" : input
        return "malformed \(space.shortName) architecture \(String(reflecting: shown)): \(problem); expected \(expected)"
    }
}

/// A space name that is not registered.
public struct UnknownSpaceError: Error, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String {
        "unknown search space '\(name)'; expected one of \(SpaceName.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}

/// A file or value of one space given where another space is used.
public struct SpaceMismatchError: Error, CustomStringConvertible {
    public let expected: SpaceName
    public let found: String
    public let what: String
    public var description: String {
        "\(what) is of search space '\(found)', but this run uses '\(expected)'; pass --space \(found) or a file of space \(expected)"
    }
}
