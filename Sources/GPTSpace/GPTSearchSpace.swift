import Autodiff
import DataFiles
import Foundation
import SpaceCore

/// How the GPT space's networks are built and run: the setting a host's measurements belong to.
public struct GPTNetworkShape: Equatable, Sendable {
    /// What a timed pass computes: the whole sequence at once (the time to the first token) or
    /// one new token attending to a key–value cache of the sequence length (the time per generated token).
    public enum Phase: String, CaseIterable, Codable, Sendable { case prefill, decode }

    public var sequenceLength: Int
    public var phase: Phase
    public var vocabulary: Int

    public init(sequenceLength: Int = 64, phase: Phase = .prefill, vocabulary: Int = GPTCost.vocabulary) {
        (self.sequenceLength, self.phase, self.vocabulary) = (sequenceLength, phase, vocabulary)
    }

    /// Tokens of one sequence that a pass feeds in.
    public var inputLength: Int { phase == .prefill ? sequenceLength : 1 }

    /// The settable parameters: `sequence-length`, `phase`, `vocabulary`.
    public static let parameterNames = ["sequence-length", "phase", "vocabulary"]

    /// The shape `setting` names (the defaults for unset parameters).
    public init(_ setting: NetworkShape) throws {
        try setting.check(known: Self.parameterNames, space: .gpt)
        let d = GPTNetworkShape()
        self.init(sequenceLength: try setting.integer("sequence-length", default: d.sequenceLength, in: 1...1 << 20),
                  phase: try setting.choice("phase", default: d.phase),
                  vocabulary: try setting.integer("vocabulary", default: d.vocabulary, in: 2...1 << 24))
    }

    public var parameters: NetworkShape {
        NetworkShape(["sequence-length": "\(sequenceLength)", "phase": phase.rawValue, "vocabulary": "\(vocabulary)"])
    }
}

/// HW-GPT-Bench's GPT-2 "s" space as a `SearchSpace`. Decisions, in the order of the encoding
/// (HW-GPT-Bench's one-hot layout): the embedding width, the layer count, the MLP ratio of each of
/// 12 layer slots, the heads of each slot, the bias (b1 first). Slots beyond the layer count are
/// unused: their one-hots are zero, and in a relaxed encoding weighted by the probability that
/// the layer count keeps them.
public struct GPTSearchSpace: SearchSpace {
    public typealias Architecture = GPTArchitecture

    public static let shippedTable = "Devices/hwgpt/architectures.csv.gz"
    public static let shippedReferences = "Devices/hwgpt/reference_archs.csv"
    /// Rows of the shipped table (`arch_index` 0…9999).
    public static let tableSize = 10_000
    static let slots = GPTArchitecture.layerCounts.max()!

    public let shape: GPTNetworkShape

    public init(shape: GPTNetworkShape = GPTNetworkShape()) { self.shape = shape }

    public var title: String { "HW-GPT-Bench GPT-2 \"s\" (decoder-only Transformer)" }
    public var tableSize: Int { Self.tableSize }
    public func reshaped(_ setting: NetworkShape) throws -> GPTSearchSpace { GPTSearchSpace(shape: try GPTNetworkShape(setting)) }

    public var name: SpaceName { .gpt }
    /// Its benchmark's loss: OpenWebText perplexity (HW-GPT-Bench).
    public var accuracyLoss: AccuracyLoss { .perplexity }
    public var shippedBenchmark: (deviceTable: String, featureTable: String) {
        ("Devices/hwgpt/latency_energy_train_devices.csv.gz", "Devices/hwgpt/device_features.csv")
    }
    public var formatHelp: String {
        "e<embedding 192|384|768>-l<layers 10|11|12>-h<heads of each layer, 4|8|12, joined by .>-m<MLP ratio of each layer, 2|3|4, joined by .>-b<bias 1|0>, e.g. e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b1"
    }

    public var decisions: [Decision] {
        func values(_ v: [Int]) -> [String] { v.map(String.init) }
        return [Decision(name: "embedding", choices: values(GPTArchitecture.embeddingWidths)),
                Decision(name: "layers", choices: values(GPTArchitecture.layerCounts))]
            + (0..<Self.slots).map { Decision(name: "mlp_ratio_\($0)", choices: values(GPTArchitecture.mlpRatios)) }
            + (0..<Self.slots).map { Decision(name: "heads_\($0)", choices: values(GPTArchitecture.headCounts)) }
            + [Decision(name: "bias", choices: ["1", "0"])]
    }

    public func parse(_ text: String) throws -> GPTArchitecture { try GPTArchitecture(parsing: text) }
    public func string(of architecture: GPTArchitecture) -> String { architecture.string }

    /// Unused slots choose their first option (any would name the same architecture).
    public func choices(of a: GPTArchitecture) -> [Int] {
        let ratios = (0..<Self.slots).map { $0 < a.layers ? GPTArchitecture.mlpRatios.firstIndex(of: a.mlpRatios[$0])! : 0 }
        let heads = (0..<Self.slots).map { $0 < a.layers ? GPTArchitecture.headCounts.firstIndex(of: a.heads[$0])! : 0 }
        return [GPTArchitecture.embeddingWidths.firstIndex(of: a.embedding)!, GPTArchitecture.layerCounts.firstIndex(of: a.layers)!]
            + ratios + heads + [a.bias ? 0 : 1]
    }

    public func architecture(choices c: [Int]) -> GPTArchitecture {
        let layers = GPTArchitecture.layerCounts[c[1]]
        return try! GPTArchitecture(embedding: GPTArchitecture.embeddingWidths[c[0]],
                                    heads: (0..<layers).map { GPTArchitecture.headCounts[c[2 + Self.slots + $0]] },
                                    mlpRatios: (0..<layers).map { GPTArchitecture.mlpRatios[c[2 + $0]] }, bias: c[2 + 2 * Self.slots] == 0)
    }

    public var encodingWidth: Int { GPTArchitecture.encodingWidth }
    public var predictorEncoding: ArchitectureEncoding { .gpt }
    public func benchmarkLossModel() throws -> (any BenchmarkLossModel)? { try GPTPerplexityPredictor.shipped() }
    public func oneHotEncoding(of a: GPTArchitecture) -> [Float] { a.encoding }

    /// The per-decision probabilities with each slot's entries times the probability that the
    /// layer count keeps the slot (1 for the first 10; P(l ≥ 11), P(l = 12) for the last two).
    public func relaxedEncoding(_ probabilities: Variable) -> Variable {
        let x = probabilities.value
        precondition(x.count == choiceCount, "GPT relaxed encoding needs \(choiceCount) probabilities, got \(x.count)")
        let minimum = GPTArchitecture.layerCounts.min()!
        /// The layer-count entries (at 3…5) whose sum keeps `slot`; empty when every count keeps it.
        func keepers(_ slot: Int) -> [Int] {
            slot < minimum ? [] : GPTArchitecture.layerCounts.indices.filter { GPTArchitecture.layerCounts[$0] > slot }.map { 3 + $0 }
        }
        let weights = (0..<Self.slots).map { slot in keepers(slot).isEmpty ? Float(1) : keepers(slot).reduce(0) { $0 + x.scalars[$1] } }
        let blocks = [6, 6 + 3 * Self.slots]
        var y = x.reshaped([choiceCount])
        for slot in 0..<Self.slots { for block in blocks { for k in 0..<3 { y.scalars[block + 3 * slot + k] *= weights[slot] } } }
        return .result(y, parents: [probabilities]) { dy in
            var dx = dy.reshaped(x.shape)
            for slot in 0..<Self.slots {
                var dot: Float = 0
                for block in blocks {
                    for k in 0..<3 {
                        let i = block + 3 * slot + k
                        dot += dy.scalars[i] * x.scalars[i]
                        dx.scalars[i] = dy.scalars[i] * weights[slot]
                    }
                }
                for e in keepers(slot) { dx.scalars[e] += dot }
            }
            return [dx]
        }
    }

    /// Distinct architectures drawn as HW-GPT-Bench samples them (every choice uniform).
    public func sample(count: Int, seed: UInt64) -> [GPTArchitecture] {
        var seen = Set<GPTArchitecture>(), result: [GPTArchitecture] = [], round: UInt64 = 0
        while result.count < max(count, 0) {
            for a in GPTArchitecture.sample(count: count - result.count, seed: seed &+ round &* 7919) where seen.insert(a).inserted { result.append(a) }
            round += 1
        }
        return result
    }

    public func referenceArchitectures() throws -> [ReferenceArchitecture<GPTArchitecture>] {
        try ReferenceArchitecture.read(Self.shippedReferences, table: try Self.shippedArchitectures(), tableFile: Self.shippedTable)
    }

    public func tableIndexer() throws -> (GPTArchitecture) -> Int? {
        let rows = try Self.shippedRows.get()
        return { rows[$0] }
    }

    /// HW-GPT-Bench's and MODNAS's split: the architectures at `hw_order` < 8,000 (the order of the
    /// benchmark's latency and energy files) train, the other 2,000 are held out.
    public func benchmarkTrainingRows() throws -> Set<Int>? {
        let table = try CSVTable(contentsOf: ShippedData.path(Self.shippedTable))
        let rows = try zip(try table.column("arch_index"), try table.column("hw_order")).enumerated().map { line, item in
            guard let index = Int(item.0), let order = Int(item.1), (0..<Self.tableSize).contains(order) else {
                throw DataFileError.badValue(path: table.path, line: line + 2, column: "hw_order", value: item.1, expected: "a position 0…\(Self.tableSize - 1)")
            }
            return (index, order)
        }
        return Set(rows.filter { $0.1 < Self.trainingOrderLimit }.map(\.0))
    }
    /// `hw_order` below this trains (HW-GPT-Bench's predictors/hwmetric/utils.py; `Devices/hwgpt/README.md`).
    static let trainingOrderLimit = 8_000

    /// The table's architectures by `arch_index` (checked in order).
    public static func shippedArchitectures() throws -> [GPTArchitecture] { try cachedArchitectures.get() }

    private static let cachedArchitectures = Result { () throws -> [GPTArchitecture] in
        let table = try CSVTable(contentsOf: ShippedData.path(shippedTable))
        let indices = try table.column("arch_index"), strings = try table.column("arch_string")
        guard indices.count == tableSize else { throw DataFileError.wrongRowCount(path: table.path, expected: tableSize, found: indices.count) }
        return try zip(indices, strings).enumerated().map { row, item in
            guard Int(item.0) == row else {
                throw DataFileError.badValue(path: table.path, line: row + 2, column: "arch_index", value: item.0, expected: "\(row) (rows in order)")
            }
            do { return try GPTArchitecture(parsing: item.1) } catch {
                throw DataFileError.badRow(path: table.path, line: row + 2, reason: "\(error)")
            }
        }
    }
    private static let shippedRows = Result { Dictionary(try cachedArchitectures.get().enumerated().map { ($1, $0) }) { first, _ in first } }

    /// Parameters exactly; multiply–accumulates of the linear layers and the head for one pass of
    /// the shape's input (batch 1), the attention products apart (`GPTCost`).
    public func cost(of a: GPTArchitecture) -> ArchitectureCost {
        let counted = GPTCost(a, batch: 1, sequenceLength: shape.inputLength, vocabulary: shape.vocabulary)
        return ArchitectureCost(multiplyAccumulates: counted.linearMultiplyAccumulates, parameters: counted.parameters)
    }

    /// Bytes (float32) the deployed network of `a` needs at `batch`: its weights, a decoding step's
    /// key–value caches, the largest set of values live at once (the logits beside a layer's
    /// input, projections and MLP values) and one head's score matrix.
    public func deployedMemoryBytes(of a: GPTArchitecture, batch: Int) -> Double? {
        let e = Double(a.embedding), rows = Double(batch) * Double(shape.inputLength)
        let widest = Double(GPTArchitecture.headSize * a.heads.max()!), hidden = e * Double(a.mlpRatios.max()!)
        let weights = Double(GPTCost(a, vocabulary: shape.vocabulary).parameters)
        let width = Double(GPTArchitecture.headSize * a.heads.reduce(0, +))
        let caches = shape.phase == .decode ? 2 * Double(batch) * Double(shape.sequenceLength) * width : 0
        let live = rows * (Double(shape.vocabulary) + 4 * e + 3 * widest + 3 * hidden)
        let scores = Double(shape.sequenceLength) * Double(shape.inputLength)
        return 4 * (weights + caches + live + scores)
    }

    /// A measured device's name carries the phase and sequence length (`<host>-prefill256`).
    public var deviceNameSuffix: String { "-\(shape.phase.rawValue)\(shape.sequenceLength)" }

    public func makeNetwork(_ a: GPTArchitecture, seed: UInt64) -> DeployableNetwork {
        GPTDeployable(GPTNetwork(a, vocabulary: shape.vocabulary, seed: seed), shape: shape, seed: seed)
    }

    public func enumeration() -> [GPTArchitecture]? { nil }

    /// A table's `arch_string` column, or (HW-GPT-Bench's device table has none) its `arch_index`
    /// rows of the shipped architecture table.
    public func architectures(in table: CSVTable) throws -> [GPTArchitecture] {
        if table.header.contains("arch_string") { return try architectures(inStringColumnOf: table) }
        let all = try Self.shippedArchitectures()
        return try table.column("arch_index").enumerated().map { row, text in
            guard let i = Int(text), all.indices.contains(i) else {
                throw DataFileError.badValue(path: table.path, line: row + 2, column: "arch_index", value: text, expected: "a row 0…\(all.count - 1) of \(Self.shippedTable)")
            }
            return all[i]
        }
    }

    public var shapeDescription: [String] {
        ["sequence=\(shape.sequenceLength)", "phase=\(shape.phase.rawValue)", "vocabulary=\(shape.vocabulary)"]
    }
    public var networkShape: NetworkShape { shape.parameters }
}

/// A GPT network as the profiler times it: its deployed graph for the shape's phase (a decoding
/// step reads seeded caches of the sequence length). Input: token ids as floats [batch, input length].
final class GPTDeployable: DeployableNetwork {
    let network: GPTNetwork
    let shape: GPTNetworkShape
    let seed: UInt64
    private var graphs: [Int: InferenceGraph] = [:]

    init(_ network: GPTNetwork, shape: GPTNetworkShape, seed: UInt64) { (self.network, self.shape, self.seed) = (network, shape, seed) }

    func inputShape(batch: Int) -> [Int] { [batch, shape.inputLength] }

    func inferenceGraph(batch: Int) -> InferenceGraph {
        if let graph = graphs[batch] { return graph }
        let graph = shape.phase == .prefill ? network.deployedGraph(batch: batch, sequenceLength: shape.sequenceLength)
            : network.decodeGraph(caches: network.randomCaches(batch: batch, length: shape.sequenceLength, seed: seed &+ 1))
        graphs[batch] = graph
        return graph
    }

    func infer(_ tokens: Tensor) -> Tensor { inferenceGraph(batch: tokens.shape[0]).run(tokens) }

    /// Token ids drawn uniformly from the vocabulary.
    func sampleInput(batch: Int, using rng: inout SeededGenerator) -> Tensor {
        let shape = inputShape(batch: batch)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.next() % UInt64(network.vocabulary)) })
    }
}
