/// The min-norm point of the convex hull of gradient vectors, by Frank–Wolfe (MODNAS's
/// multiple-gradient descent): γ in the simplex minimising ‖Σ γₜ gₜ‖.
public enum MinNormSolver {
    public struct Solution: Equatable, Sendable {
        /// The convex weights γ.
        public var weights: [Double]
        /// ‖Σ γₜ gₜ‖².
        public var squaredNorm: Double
        public var iterations: Int
    }

    /// Solves for `vectors` (equal lengths; at least one). Starts from the best pair, then moves
    /// towards the vertex with the smallest ⟨gₜ, Σγg⟩ with an exact line search, until γ changes by
    /// less than `tolerance` or after `maxIterations` (the original code never counted them).
    public static func solve(_ vectors: [[Double]], tolerance: Double = 1e-5, maxIterations: Int = 250) -> Solution {
        let n = vectors.count
        precondition(n >= 1, "MinNormSolver needs at least one vector")
        let gram = (0..<n).map { i in (0..<n).map { j in zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        if n == 1 { return Solution(weights: [1], squaredNorm: gram[0][0], iterations: 0) }

        // Best pair: for each pair the min-norm point on its segment.
        var best = (i: 0, j: 1, c: 1.0, norm: Double.infinity)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let (c, norm) = segmentMinimum(gram[i][i], gram[i][j], gram[j][j])
                if norm < best.norm { best = (i, j, c, norm) }
            }
        }
        var gamma = [Double](repeating: 0, count: n)
        gamma[best.i] = best.c
        gamma[best.j] = 1 - best.c
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            let mg = (0..<n).map { t in (0..<n).reduce(0) { $0 + gram[t][$1] * gamma[$1] } }   // M γ
            let t = mg.indices.min { mg[$0] < mg[$1] }!
            // Line search between v = Σγg and the vertex gₜ: ‖v‖² = γᵀMγ, ⟨v, gₜ⟩ = (Mγ)ₜ.
            let vv = zip(gamma, mg).reduce(0) { $0 + $1.0 * $1.1 }
            let (c, _) = segmentMinimum(vv, mg[t], gram[t][t])
            var next = gamma.map { $0 * c }
            next[t] += 1 - c
            let change = zip(next, gamma).reduce(0) { $0 + abs($1.0 - $1.1) }
            gamma = next
            if change < tolerance { break }
        }
        let norm = (0..<n).reduce(0) { s, i in s + gamma[i] * (0..<n).reduce(0) { $0 + gram[i][$1] * gamma[$1] } }
        return Solution(weights: gamma, squaredNorm: norm, iterations: iterations)
    }

    /// min over c ∈ [0, 1] of ‖c·a + (1−c)·b‖² given ⟨a,a⟩, ⟨a,b⟩, ⟨b,b⟩: returns (c, value).
    static func segmentMinimum(_ aa: Double, _ ab: Double, _ bb: Double) -> (Double, Double) {
        let denominator = aa + bb - 2 * ab
        let c = denominator <= 1e-12 ? 0.5 : min(max((bb - ab) / denominator, 0), 1)
        return (c, c * c * aa + 2 * c * (1 - c) * ab + (1 - c) * (1 - c) * bb)
    }

    /// Each vector divided by its L2 norm (zero vectors stay zero), as MODNAS normalises per-device gradients.
    public static func normalized(_ vectors: [[Double]]) -> [[Double]] {
        vectors.map { v in
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? v.map { $0 / norm } : v
        }
    }
}
