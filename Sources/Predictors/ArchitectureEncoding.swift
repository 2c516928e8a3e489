import GPTSpace
import SearchSpaces

/// A latency predictor's input: a fixed linear map M of the space's (possibly relaxed) encoding,
/// so the predicted latency stays differentiable in the architecture. The first rows repeat the
/// encoding; the others are structural counts that latency is nearly additive in.
public struct ArchitectureEncoding: Sendable {
    /// Name stored in predictor files.
    public let name: String
    public let space: SpaceName
    /// Width of the space's encoding (`SearchSpace.encodingWidth`).
    public let inputCount: Int
    public let featureCount: Int
    /// The F×inputCount matrix M (row-major).
    public let matrix: [Float]

    /// The encoding of a space's predictors.
    public static func of(_ space: SpaceName) -> ArchitectureEncoding {
        switch space {
        case .nb201: return nb201
        case .ofa: return ofa
        case .gpt: return gpt
        }
    }

    /// GPT: the 80 entries of HW-GPT-Bench's one-hot layout (unused layer slots zero; relaxed:
    /// weighted by the probability that the layer count keeps them); then the layer count, Σ heads,
    /// Σ MLP ratios over the layers, E/768 and (E/768)². The products that dominate the cost
    /// (E·Σheads, E²·Σratios) are not linear in the encoding; the MLP learns them.
    public static let gpt: ArchitectureEncoding = {
        let width = GPTArchitecture.encodingWidth, slots = GPTArchitecture.layerCounts.max()!
        return ArchitectureEncoding(name: "gpt-onehot80+structure5", space: .gpt, inputs: width, features: width + 5) { set in
            for slot in 0..<slots {
                for (k, ratio) in GPTArchitecture.mlpRatios.enumerated() { set(width + 2, 6 + 3 * slot + k, Float(ratio)) }
                for (k, heads) in GPTArchitecture.headCounts.enumerated() {
                    set(width, 6 + 3 * slots + 3 * slot + k, 1)
                    set(width + 1, 6 + 3 * slots + 3 * slot + k, Float(heads))
                }
            }
            for (k, e) in GPTArchitecture.embeddingWidths.enumerated() {
                let scale = Float(e) / 768
                set(width + 3, k, scale)
                set(width + 4, k, scale * scale)
            }
        }
    }()

    /// NB201: the 30 one-hot entries; the count of each of the 5 operations; the number of live
    /// (non-`none`) inputs of nodes 1, 2 and 3; and the convolution cost in 1×1-conv units
    /// (9 per 3×3 conv, 1 per 1×1 conv).
    public static let nb201: ArchitectureEncoding = {
        let ops = NB201Architecture.operationCount
        return ArchitectureEncoding(name: "nb201-onehot30+structure9", space: .nb201, inputs: 30, features: 39) { set in
            for (e, edge) in NB201Architecture.edges.enumerated() {
                for o in 0..<ops {
                    let column = e * ops + o
                    set(30 + o, column, 1)
                    if o != NB201Operation.none.rawValue { set(35 + edge.target - 1, column, 1) }
                }
                set(38, e * ops + NB201Operation.conv3x3.rawValue, 9)
                set(38, e * ops + NB201Operation.conv1x1.rawValue, 1)
            }
        }
    }()

    /// OFA: the 160 entries of `OFASpace`'s encoding, in which a skipped layer's kernel and
    /// expand entries are zero (relaxed: weighted by the probability that its stage keeps it);
    /// then per stage its layer count, Σ expand ratio and Σ k²/9 over its layers; then r/224 and
    /// (r/224)², and the network's layer count.
    public static let ofa: ArchitectureEncoding = {
        let slots = OFAArchitecture.slotCount, perStage = OFAArchitecture.maxDepth, stages = OFAArchitecture.stageCount
        let expandsAt = 3 * slots, resolutionsAt = 6 * slots + 3 * stages
        let structure = resolutionsAt + OFAArchitecture.resolutionChoices.count
        return ArchitectureEncoding(name: "ofa-onehot160+structure18", space: .ofa, inputs: structure, features: structure + 3 * stages + 3) { set in
            for slot in 0..<slots {
                let stage = slot / perStage
                for (k, kernel) in OFAArchitecture.kernelChoices.enumerated() {
                    set(structure + stage, 3 * slot + k, 1)
                    set(structure + 2 * stages + stage, 3 * slot + k, Float(kernel * kernel) / 9)
                    set(structure + 3 * stages + 2, 3 * slot + k, 1)
                }
                for (k, expand) in OFAArchitecture.expandChoices.enumerated() {
                    set(structure + stages + stage, expandsAt + 3 * slot + k, Float(expand))
                }
            }
            for (k, r) in OFAArchitecture.resolutionChoices.enumerated() {
                let scale = Float(r) / 224
                set(structure + 3 * stages, resolutionsAt + k, scale)
                set(structure + 3 * stages + 1, resolutionsAt + k, scale * scale)
            }
        }
    }()

    /// An encoding with the identity in its first `inputs` rows and the entries `build` sets.
    init(name: String, space: SpaceName, inputs: Int, features: Int, build: ((Int, Int, Float) -> Void) -> Void) {
        var m = [Float](repeating: 0, count: features * inputs)
        for k in 0..<inputs { m[k * inputs + k] = 1 }
        build { row, column, value in m[row * inputs + column] += value }
        (self.name, self.space, inputCount, featureCount, matrix) = (name, space, inputs, features, m)
    }

    /// M·x for one encoding x (`inputCount` values).
    public func features(_ x: [Float]) -> [Float] {
        precondition(x.count == inputCount, "\(space) encoding needs \(inputCount) values, got \(x.count)")
        return (0..<featureCount).map { r in
            var s: Float = 0
            for c in 0..<inputCount where matrix[r * inputCount + c] != 0 { s += matrix[r * inputCount + c] * x[c] }
            return s
        }
    }

    /// Mᵀ·g: the gradient with respect to the encoding of a gradient with respect to the features.
    public func pullback(_ g: [Float]) -> [Float] {
        (0..<inputCount).map { c in
            var s: Float = 0
            for r in 0..<featureCount { s += matrix[r * inputCount + c] * g[r] }
            return s
        }
    }

    /// The features of an architecture of `space` (which must be this encoding's space).
    public func features<S: SearchSpace>(of architecture: S.Architecture, in space: S) -> [Float] {
        features(space.oneHotEncoding(of: architecture))
    }
}
