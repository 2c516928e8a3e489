import Autodiff

/// MODNAS's scalarised loss for preference r over M normalised objectives L:
/// Σₘ rₘ·Lₘ − λ·cos(L, r). The cosine term carries gradient (in the original code it was detached
/// and did nothing): ∂cos/∂L = r/(‖L‖‖r‖) − cos·L/‖L‖².
public func scalarizedLoss(_ objectives: Variable, preference r: [Float], cosineWeight lambda: Float = 0.01) -> Variable {
    let l = objectives.value.scalars
    precondition(l.count == r.count, "scalarizedLoss needs one preference per objective")
    let dot = zip(l, r).reduce(Float(0)) { $0 + $1.0 * $1.1 }
    let lNorm = max(l.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    let rNorm = max(r.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    let cosine = dot / (lNorm * rNorm)
    let value = dot - lambda * cosine
    return Variable.result(Tensor(scalar: value), parents: [objectives]) { g in
        let upstream = g.scalars[0]
        let grad = (0..<l.count).map { m in
            upstream * (r[m] - lambda * (r[m] / (lNorm * rNorm) - cosine * l[m] / (lNorm * lNorm)))
        }
        return [Tensor(shape: objectives.shape, scalars: grad)]
    }
}
