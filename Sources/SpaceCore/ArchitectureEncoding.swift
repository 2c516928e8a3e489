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

    /// An encoding with the identity in its first `inputs` rows and the entries `build` sets.
    public init(name: String, space: SpaceName, inputs: Int, features: Int, build: ((Int, Int, Float) -> Void) -> Void) {
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
