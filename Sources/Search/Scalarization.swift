import Autodiff
import Foundation

/// How a preference vector r turns the M normalised objectives L into one loss (`--scalarization`;
/// stored by these names).
public enum Scalarization: String, CaseIterable, Codable, Sendable {
    /// MODNAS's weighted sum Σₘ rₘ·Lₘ: reaches only the convex hull of a front.
    case linear
    /// Smooth Tchebycheff, μ·log Σₘ exp(rₘ·Lₘ / μ) (Lin et al., ICML 2024), a smooth max of the
    /// weighted objectives (ideal point 0): reaches a front's non-convex parts too.
    case chebyshev

    /// μ of the smooth maximum (on objectives normalised to about 0…1).
    public static let smoothing: Float = 0.05

    /// The exact score of normalised objectives `l` at preference `r` (the max itself for
    /// Tchebycheff), for choosing among listed architectures.
    public func score(_ l: [Double], preference r: [Double]) -> Double {
        let weighted = zip(l, r).map { $0 * $1 }
        return self == .linear ? weighted.reduce(0, +) : weighted.max()!
    }
}

/// The scalarised loss for preference r over M normalised objectives L: `scalarization`'s loss
/// − λ·cos(L, r) (MODNAS's cosine term; in the original code it was detached and did nothing):
/// ∂cos/∂L = r/(‖L‖‖r‖) − cos·L/‖L‖².
public func scalarizedLoss(_ objectives: Variable, preference r: [Float], cosineWeight lambda: Float = 0.01,
                           scalarization: Scalarization = .linear) -> Variable {
    let l = objectives.value.scalars
    precondition(l.count == r.count, "scalarizedLoss needs one preference per objective")
    let dot = zip(l, r).reduce(Float(0)) { $0 + $1.0 * $1.1 }
    let lNorm = max(l.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    let rNorm = max(r.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    let cosine = dot / (lNorm * rNorm)
    // The main term and its gradient with respect to L.
    let (main, mainGradient): (Float, [Float])
    switch scalarization {
    case .linear:
        (main, mainGradient) = (dot, r)
    case .chebyshev:
        let mu = Scalarization.smoothing
        let z = zip(l, r).map { $0 * $1 / mu }, top = z.max()!
        let weights = z.map { Foundation.exp($0 - top) }, total = weights.reduce(0, +)
        main = mu * (top + Foundation.log(total))
        mainGradient = zip(weights, r).map { $0 / total * $1 }   // softmax(z)ₘ · rₘ
    }
    return Variable.result(Tensor(scalar: main - lambda * cosine), parents: [objectives]) { g in
        let upstream = g.scalars[0]
        let grad = (0..<l.count).map { m in
            upstream * (mainGradient[m] - lambda * (r[m] / (lNorm * rNorm) - cosine * l[m] / (lNorm * lNorm)))
        }
        return [Tensor(shape: objectives.shape, scalars: grad)]
    }
}
