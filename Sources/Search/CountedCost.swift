import SearchSpaces

/// A device-free cost (parameters, FLOPs) as the search differentiates it: a linear function of
/// the space's one-hot encoding, fitted by least squares to the cost counter's counts over the
/// normalisation set. Exact where the count is a sum over the decisions (NB201: each edge's
/// operation adds its own convolution); elsewhere an estimate whose worst relative error
/// `worstRelativeError` states. Fronts and evaluations use the counter's exact counts.
public struct CountedCost: Sendable {
    public let cost: CostObjective
    let weights: [Double]
    let bias: Double
    /// The largest |fit − count| / count over the architectures fitted on.
    public let worstRelativeError: Double

    public init<S: SearchSpace>(_ cost: CostObjective, space: S, architectures: [S.Architecture]) {
        precondition(!cost.isPerDevice, "\(cost) is per device")
        self.cost = cost
        let x = architectures.map { space.oneHotEncoding(of: $0).map(Double.init) + [1] }
        let y = architectures.map { cost.count(space.cost(of: $0)) }
        let d = x[0].count
        // Normal equations with a tiny ridge (one-hot columns are collinear with the bias), in
        // units of the mean count so that the ridge is relative.
        let scale = max(y.reduce(0, +) / Double(y.count), 1)
        var gram = [Double](repeating: 0, count: d * d), rhs = [Double](repeating: 0, count: d)
        for (row, target) in zip(x, y) {
            for i in 0..<d where row[i] != 0 {
                rhs[i] += row[i] * target / scale
                for j in 0..<d where row[j] != 0 { gram[i * d + j] += row[i] * row[j] }
            }
        }
        let ridge = 1e-9 * Double(x.count)
        for i in 0..<d { gram[i * d + i] += ridge }
        let solution = CountedCost.solveSymmetric(gram, rhs, size: d).map { $0 * scale }
        weights = Array(solution.dropLast())
        bias = solution[d - 1]
        let fitted = x.map { row in zip(row, solution).reduce(0) { $0 + $1.0 * $1.1 } }
        worstRelativeError = zip(fitted, y).map { abs($0 - $1) / max($1, 1) }.max() ?? 0
    }

    /// The fitted cost at an encoding and its gradient with respect to it.
    public func evaluate(_ encoding: [Float]) -> (value: Double, gradient: [Float]) {
        (zip(encoding, weights).reduce(bias) { $0 + Double($1.0) * $1.1 }, weights.map(Float.init))
    }

    /// Solves A x = b for a symmetric positive definite A (Cholesky).
    static func solveSymmetric(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? max(s, 1e-300).squareRoot() : s / l[j * n + j]
            }
        }
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var s = b[i]
            for k in 0..<i { s -= l[i * n + k] * y[k] }
            y[i] = s / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = y[i]
            for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
            x[i] = s / l[i * n + i]
        }
        return x
    }
}
