import SpaceCore

/// The surrogate's input: the 30-dimensional (relaxed) one-hot plus, for each of the 4 paths from
/// the cell input to its output, whether the path is live (no `none` edge), live × convolutions on
/// it and live × 3×3 convolutions on it. The path terms are products of encoding entries, so they
/// stay differentiable in a relaxed encoding.
public enum PathEncoding {
    public static let name = "nb201-onehot30+paths12"
    public static let featureCount = 42
    /// The paths 0→3 as edge indices into `NB201Architecture.edges`.
    public static let paths: [[Int]] = [[3], [0, 4], [1, 5], [0, 2, 5]]

    /// The features of encoding `x` (30 values) and their Jacobian [42 × 30], row-major.
    public static func featuresAndJacobian(_ x: [Float]) -> (features: [Float], jacobian: [Float]) {
        precondition(x.count == 30, "encoding needs 30 values, got \(x.count)")
        let ops = NB201Architecture.operationCount
        func at(_ e: Int, _ op: NB201Operation) -> Int { e * ops + op.rawValue }
        var f = x
        var jacobian = [Float](repeating: 0, count: featureCount * 30)
        for k in 0..<30 { jacobian[k * 30 + k] = 1 }
        for path in paths {
            let open = path.map { 1 - x[at($0, .none)] }
            let live = open.reduce(1, *)
            let convs = path.reduce(Float(0)) { $0 + x[at($1, .conv1x1)] + x[at($1, .conv3x3)] }
            let big = path.reduce(Float(0)) { $0 + x[at($1, .conv3x3)] }
            let row = f.count
            f += [live, live * convs, live * big]
            for (k, e) in path.enumerated() {
                // ∂live/∂x[e, none] = −Π of the other edges' open factors.
                let others = open.enumerated().reduce(Float(1)) { $1.offset == k ? $0 : $0 * $1.element }
                for (r, factor) in [(row, Float(1)), (row + 1, convs), (row + 2, big)] {
                    jacobian[r * 30 + at(e, .none)] -= others * factor
                }
                jacobian[(row + 1) * 30 + at(e, .conv1x1)] += live
                jacobian[(row + 1) * 30 + at(e, .conv3x3)] += live
                jacobian[(row + 2) * 30 + at(e, .conv3x3)] += live
            }
        }
        return (f, jacobian)
    }

    public static func features(_ x: [Float]) -> [Float] { featuresAndJacobian(x).features }

    /// Whether the cell output is connected to its input: 1 − Πₚ(1 − liveₚ) over the 4 paths
    /// (0 or 1 for an architecture, multilinear in a relaxed encoding), with its gradient.
    public static func connectivity(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        let (f, jacobian) = featuresAndJacobian(x)
        let dead = paths.indices.map { 1 - f[30 + 3 * $0] }
        var gradient = [Float](repeating: 0, count: 30)
        for p in paths.indices {
            let others = dead.enumerated().reduce(Float(1)) { $1.offset == p ? $0 : $0 * $1.element }
            for c in 0..<30 { gradient[c] += others * jacobian[(30 + 3 * p) * 30 + c] }
        }
        return (1 - dead.reduce(1, *), gradient)
    }

    /// Whether some path from cell input to output has no `none` edge.
    public static func isConnected(_ architecture: NB201Architecture) -> Bool {
        paths.contains { path in path.allSatisfy { architecture.operations[$0] != .none } }
    }
}

extension NB201SearchSpace {
    /// The surrogate's features: `PathEncoding`, gated by connectivity.
    public var surrogateFeatures: SurrogateFeatures {
        SurrogateFeatures(name: PathEncoding.name, space: .nb201, inputCount: encodingWidth, featureCount: PathEncoding.featureCount,
                          featuresAndJacobian: PathEncoding.featuresAndJacobian, connectivity: PathEncoding.connectivity)
    }
}
