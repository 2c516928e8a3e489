import Autodiff
import Foundation

/// An architecture of HW-GPT-Bench's GPT-2 "s" space (Sukthanker et al., NeurIPS 2024 Datasets and
/// Benchmarks; `Devices/hwgpt/README.md`): one embedding width and bias choice for the network,
/// 10–12 layers, and per layer its number of attention heads (head size 64) and MLP ratio.
/// Canonical string: `e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b1`.
public struct GPTArchitecture: Hashable, Sendable, CustomStringConvertible {
    public static let embeddingWidths = [192, 384, 768]
    public static let layerCounts = [10, 11, 12]
    public static let headCounts = [4, 8, 12]
    public static let mlpRatios = [2, 3, 4]
    /// Every head has 64 dimensions, so a layer's attention width is 64 · heads, independent of the embedding.
    public static let headSize = 64

    public let embedding: Int
    /// Heads of each layer (the count is the number of layers).
    public let heads: [Int]
    /// MLP ratio of each layer: its hidden width is ratio · embedding.
    public let mlpRatios: [Int]
    /// Whether the linear layers and layer norms carry biases.
    public let bias: Bool

    public var layers: Int { heads.count }

    /// A checked architecture; the error names the first value outside the space.
    public init(embedding: Int, heads: [Int], mlpRatios: [Int], bias: Bool) throws {
        guard Self.embeddingWidths.contains(embedding) else {
            throw GPTSpaceError.outsideSpace("embedding width \(embedding) is not one of \(Self.list(Self.embeddingWidths))")
        }
        guard Self.layerCounts.contains(heads.count) else {
            throw GPTSpaceError.outsideSpace("\(heads.count) layers is not one of \(Self.list(Self.layerCounts))")
        }
        guard mlpRatios.count == heads.count else {
            throw GPTSpaceError.outsideSpace("\(heads.count) head counts but \(mlpRatios.count) MLP ratios; give one of each per layer")
        }
        if let (i, h) = heads.enumerated().first(where: { !Self.headCounts.contains($0.element) }) {
            throw GPTSpaceError.outsideSpace("layer \(i + 1) has \(h) heads, not one of \(Self.list(Self.headCounts))")
        }
        if let (i, r) = mlpRatios.enumerated().first(where: { !Self.mlpRatios.contains($0.element) }) {
            throw GPTSpaceError.outsideSpace("layer \(i + 1) has MLP ratio \(r), not one of \(Self.list(Self.mlpRatios))")
        }
        (self.embedding, self.heads, self.mlpRatios, self.bias) = (embedding, heads, mlpRatios, bias)
    }

    /// Parses the canonical string; a malformed one gets an error that shows the expected form.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        func bad(_ why: String) -> GPTSpaceError { .malformed(text: text, reason: why) }
        guard parts.count == 5 else { throw bad("it has \(parts.count) '-'-separated parts, not 5") }
        func number(_ part: Substring, _ prefix: Character, _ what: String) throws -> Int {
            guard part.first == prefix, let n = Int(part.dropFirst()) else { throw bad("\(what) '\(part)' is not \(prefix)<number>") }
            return n
        }
        func numbers(_ part: Substring, _ prefix: Character, _ what: String) throws -> [Int] {
            guard part.first == prefix else { throw bad("\(what) '\(part)' does not start with '\(prefix)'") }
            return try part.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map { field in
                guard let n = Int(field) else { throw bad("\(what) '\(part)' holds '\(field)', not a number") }
                return n
            }
        }
        let embedding = try number(parts[0], "e", "the embedding width")
        let layers = try number(parts[1], "l", "the layer count")
        let heads = try numbers(parts[2], "h", "the head counts")
        let ratios = try numbers(parts[3], "m", "the MLP ratios")
        guard parts[4] == "b0" || parts[4] == "b1" else { throw bad("the bias '\(parts[4])' is not b0 or b1") }
        guard heads.count == layers, ratios.count == layers else {
            throw bad("l\(layers) needs \(layers) head counts and \(layers) MLP ratios, not \(heads.count) and \(ratios.count)")
        }
        do { try self.init(embedding: embedding, heads: heads, mlpRatios: ratios, bias: parts[4] == "b1") } catch let error as GPTSpaceError {
            throw bad("\(error)")
        }
    }

    /// The canonical string.
    public var string: String {
        "e\(embedding)-l\(layers)-h\(heads.map(String.init).joined(separator: "."))-m\(mlpRatios.map(String.init).joined(separator: "."))-b\(bias ? 1 : 0)"
    }

    public var description: String { string }

    /// Width of `encoding`.
    public static let encodingWidth = 80

    /// One-hots in HW-GPT-Bench's layout (`convert_config_to_one_hot`): the embedding width (192,
    /// 384, 768) at 0–2, the layer count (10, 11, 12) at 3–5, per layer i of 12 the MLP ratio
    /// (2, 3, 4) at 6 + 3i and the heads (4, 8, 12) at 42 + 3i, zeros for layers the
    /// architecture does not have, and the bias at 78 (b1) or 79 (b0).
    public var encoding: [Float] {
        var x = [Float](repeating: 0, count: Self.encodingWidth)
        x[Self.embeddingWidths.firstIndex(of: embedding)!] = 1
        x[3 + Self.layerCounts.firstIndex(of: layers)!] = 1
        for i in 0..<layers {
            x[6 + 3 * i + Self.mlpRatios.firstIndex(of: mlpRatios[i])!] = 1
            x[42 + 3 * i + Self.headCounts.firstIndex(of: heads[i])!] = 1
        }
        x[bias ? 78 : 79] = 1
        return x
    }

    static func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: ", ") }

    /// `count` architectures drawn as HW-GPT-Bench samples them (each choice uniform: embedding,
    /// layer count, per layer heads and MLP ratio, bias), seeded.
    public static func sample(count: Int, seed: UInt64) -> [GPTArchitecture] {
        var rng = SeededGenerator(seed: seed)
        func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
        return (0..<count).map { _ in
            let embedding = pick(embeddingWidths), layers = pick(layerCounts)
            let heads = (0..<layers).map { _ in pick(headCounts) }, ratios = (0..<layers).map { _ in pick(mlpRatios) }
            return try! GPTArchitecture(embedding: embedding, heads: heads, mlpRatios: ratios, bias: pick([0, 1]) == 1)
        }
    }
}

public enum GPTSpaceError: Error, CustomStringConvertible, Equatable {
    case outsideSpace(String)
    case malformed(text: String, reason: String)

    public var description: String {
        switch self {
        case .outsideSpace(let reason): return reason
        case .malformed(let text, let reason):
            return "'\(text)' is not a GPT architecture string (\(reason)); the form is e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b1"
        }
    }
}
