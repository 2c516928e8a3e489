import SearchSpaces

/// The predictor input: a fixed linear map of the 30-dimensional (possibly relaxed) one-hot
/// encoding, so the predicted latency stays differentiable in the architecture.
///
/// Rows: the 30 one-hot entries; the count of each of the 5 operations; the number of live
/// (non-`none`) inputs of nodes 1, 2 and 3; and the convolution cost in 1×1-conv units
/// (9 per 3×3 conv, 1 per 1×1 conv).
public enum ArchitectureEncoding {
    /// Name stored in predictor files.
    public static let name = "nb201-onehot30+structure9"
    public static let inputCount = 30
    public static let featureCount = 39

    /// The F×30 matrix M (row-major).
    public static let matrix: [Float] = {
        let ops = NB201Architecture.operationCount
        var m = [Float](repeating: 0, count: featureCount * inputCount)
        func set(_ row: Int, _ column: Int, _ v: Float) { m[row * inputCount + column] += v }
        for k in 0..<inputCount { set(k, k, 1) }
        for (e, edge) in NB201Architecture.edges.enumerated() {
            for o in 0..<ops {
                let column = e * ops + o
                set(30 + o, column, 1)
                if o != NB201Operation.none.rawValue { set(35 + edge.target - 1, column, 1) }
            }
            set(38, e * ops + NB201Operation.conv3x3.rawValue, 9)
            set(38, e * ops + NB201Operation.conv1x1.rawValue, 1)
        }
        return m
    }()

    /// M·x for one encoding x (30 values).
    public static func features(_ x: [Float]) -> [Float] {
        precondition(x.count == inputCount, "encoding needs 30 values, got \(x.count)")
        return (0..<featureCount).map { r in
            var s: Float = 0
            for c in 0..<inputCount { s += matrix[r * inputCount + c] * x[c] }
            return s
        }
    }

    /// Mᵀ·g: the gradient with respect to the encoding of a gradient with respect to the features.
    public static func pullback(_ g: [Float]) -> [Float] {
        (0..<inputCount).map { c in
            var s: Float = 0
            for r in 0..<featureCount { s += matrix[r * inputCount + c] * g[r] }
            return s
        }
    }
}
