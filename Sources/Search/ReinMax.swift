import Autodiff
import Foundation

/// ReinMax straight-through sampling of one operation per edge (Liu et al., NeurIPS 2023), as
/// MODNAS uses it with temperature 1.
///
/// Forward: a one-hot sample D per row of `logits` [edges, ops] from softmax(α). Backward, with G
/// the gradient with respect to D: π = softmax(α), π₁ = ½(softmax(α/τ) + D),
/// ∂α = 2·π₁⊙(G − ⟨π₁,G⟩) − ½·π⊙(G − ⟨π,G⟩) per row. Unsampled operations get weight 0 in the
/// forward pass but still receive gradient.
public func reinMaxSample(_ logits: Variable, temperature: Float = 1, using rng: inout SeededGenerator) -> Variable {
    let alpha = logits.value
    precondition(alpha.rank == 2, "reinMaxSample needs logits [edges, ops], got \(alpha.shape)")
    let pi = softmax(alpha), piTau = softmax(alpha.scaled(by: 1 / temperature))
    let (rows, k) = (alpha.shape[0], alpha.shape[1])
    var sample = Tensor(zeros: alpha.shape)
    for r in 0..<rows {
        let u = rng.nextUniform()
        var cumulative: Float = 0, chosen = k - 1
        for o in 0..<k {
            cumulative += pi.scalars[r * k + o]
            if u < cumulative { chosen = o; break }
        }
        sample.scalars[r * k + chosen] = 1
    }
    let d = sample
    return Variable.result(d, parents: [logits]) { g in
        [reinMaxGradient(upstream: g, probabilities: pi, temperedProbabilities: piTau, sample: d)]
    }
}

/// The ReinMax gradient with respect to the logits (see `reinMaxSample`).
public func reinMaxGradient(upstream g: Tensor, probabilities pi: Tensor, temperedProbabilities piTau: Tensor,
                            sample d: Tensor) -> Tensor {
    let (rows, k) = (g.shape[0], g.shape[1])
    var out = Tensor(zeros: g.shape)
    for r in 0..<rows {
        let range = (r * k)..<((r + 1) * k)
        let pi1 = range.map { 0.5 * (piTau.scalars[$0] + d.scalars[$0]) }
        let dot1 = zip(pi1, range).reduce(Float(0)) { $0 + $1.0 * g.scalars[$1.1] }
        let dot = range.reduce(Float(0)) { $0 + pi.scalars[$1] * g.scalars[$1] }
        for (o, i) in range.enumerated() {
            out.scalars[i] = 2 * pi1[o] * (g.scalars[i] - dot1) - 0.5 * pi.scalars[i] * (g.scalars[i] - dot)
        }
    }
    return out
}
