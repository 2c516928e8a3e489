import Testing
@testable import Autodiff

/// Checks the taped gradients of `f` against central finite differences of
/// L(inputs) = Σ f(inputs) ⊙ R, for a fixed random R, on up to `probes` elements per input.
func expectGradientsMatch(_ inputs: [Tensor], probes: Int = 24, step: Float = 1e-2,
                          tolerance: Float = 2e-2, seed: UInt64 = 1,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Variable]) -> Variable) {
    var rng = SeededGenerator(seed: seed)
    let leaves = inputs.map { Variable($0, requiresGrad: true) }
    let y = f(leaves)
    let r = Tensor.uniform(shape: y.shape, low: -1, high: 1, using: &rng)
    y.backward(seed: r)

    func loss(_ xs: [Tensor]) -> Double {
        withoutTape {
            let out = f(xs.map { Variable($0) }).value
            var s = 0.0
            for i in 0..<out.count { s += Double(out.scalars[i]) * Double(r.scalars[i]) }
            return s
        }
    }

    for (k, input) in inputs.enumerated() {
        guard let analytic = leaves[k].grad else {
            Issue.record("input \(k) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        #expect(analytic.shape == input.shape, sourceLocation: sourceLocation)
        let scale = max(analytic.scalars.map(abs).max() ?? 0, 1e-3)
        let indices = input.count <= probes ? Array(0..<input.count)
            : (0..<probes).map { _ in Int(rng.next() % UInt64(input.count)) }
        for i in indices {
            var plus = inputs, minus = inputs
            plus[k].scalars[i] += step
            minus[k].scalars[i] -= step
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
            let error = abs(numeric - analytic.scalars[i])
            #expect(error <= tolerance * (abs(numeric) + 0.1 * scale),
                    "input \(k)[\(i)]: analytic \(analytic.scalars[i]) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }
}

/// A random tensor whose entries stay at least `margin` away from zero (for kinks like ReLU's).
func awayFromZero(_ shape: [Int], margin: Float = 0.05, using rng: inout SeededGenerator) -> Tensor {
    var t = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng)
    for i in 0..<t.count where abs(t.scalars[i]) < margin { t.scalars[i] = t.scalars[i] < 0 ? -margin - 0.05 : margin + 0.05 }
    return t
}
