import Foundation

/// SiLU (swish): x · σ(x), the LLaMA-style MLP's gate.
public func silu(_ x: Tensor) -> Tensor { elementwise(x) { $0 / (1 + Foundation.exp(-$0)) } }

/// Taped SiLU; its slope is σ(x) · (1 + x · (1 − σ(x))).
public func silu(_ x: Variable) -> Variable {
    elementwise(x, forward: silu, slope: { v in
        let s = 1 / (1 + Foundation.exp(-v))
        return s * (1 + v * (1 - s))
    })
}

/// Φ(x), the standard normal distribution function.
private func normalCDF(_ x: Float) -> Float { 0.5 * (1 + Foundation.erf(x / Float(2).squareRoot())) }

/// GELU, exact: x · Φ(x).
public func gelu(_ x: Tensor) -> Tensor { elementwise(x) { $0 * normalCDF($0) } }

/// Taped GELU; its slope is Φ(x) + x · φ(x).
public func gelu(_ x: Variable) -> Variable {
    elementwise(x, forward: gelu, slope: { v in
        let density: Float = Foundation.exp(-v * v / 2) / (2 * Float.pi).squareRoot()
        return normalCDF(v) + v * density
    })
}

/// Layer normalisation over the last dimension of x [rows, d]: each row to zero mean and unit
/// variance (biased, + `epsilon`), then · scale [d] + shift [d].
public func layerNorm(_ x: Tensor, scale: Tensor, shift: Tensor?, epsilon: Float = 1e-5) -> Tensor {
    layerNormParts(x, scale: scale, shift: shift, epsilon: epsilon).y
}

/// The normalised rows x̂, each row's 1/σ, and the output.
private func layerNormParts(_ x: Tensor, scale: Tensor, shift: Tensor?, epsilon: Float) -> (normalized: Tensor, inverseStd: [Float], y: Tensor) {
    let d = x.shape.last!, rows = x.count / d
    precondition(scale.count == d && (shift?.count ?? d) == d, "layerNorm: scale and shift need \(d) entries")
    var normalized = x, inverseStd = [Float](repeating: 0, count: rows), y = x
    for r in 0..<rows {
        let row = (r * d)..<((r + 1) * d)
        let mean = x.scalars[row].reduce(0, +) / Float(d)
        let variance = x.scalars[row].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(d)
        let inverse = 1 / (variance + epsilon).squareRoot()
        inverseStd[r] = inverse
        for (k, i) in row.enumerated() {
            normalized.scalars[i] = (x.scalars[i] - mean) * inverse
            y.scalars[i] = normalized.scalars[i] * scale.scalars[k] + (shift?.scalars[k] ?? 0)
        }
    }
    return (normalized, inverseStd, y)
}

/// Taped layer normalisation: ∂x = (1/σ)(g − mean(g) − x̂ · mean(g ⊙ x̂)) with g = ∂y ⊙ scale;
/// ∂scale = Σ_rows ∂y ⊙ x̂; ∂shift = Σ_rows ∂y.
public func layerNorm(_ x: Variable, scale: Variable, shift: Variable?, epsilon: Float = 1e-5) -> Variable {
    let (normalized, inverseStd, y) = layerNormParts(x.value, scale: scale.value, shift: shift?.value, epsilon: epsilon)
    let gamma = scale.value, d = gamma.count
    return .result(y, parents: [x, scale] + (shift.map { [$0] } ?? [])) { dy in
        var dx = dy, dScale = Tensor(zeros: [d]), dShift = Tensor(zeros: [d])
        for r in 0..<inverseStd.count {
            let row = (r * d)..<((r + 1) * d)
            var meanG: Float = 0, meanGX: Float = 0
            for (k, i) in row.enumerated() {
                let g = dy.scalars[i] * gamma.scalars[k]
                meanG += g
                meanGX += g * normalized.scalars[i]
                dScale.scalars[k] += dy.scalars[i] * normalized.scalars[i]
                dShift.scalars[k] += dy.scalars[i]
            }
            meanG /= Float(d)
            meanGX /= Float(d)
            for (k, i) in row.enumerated() {
                dx.scalars[i] = inverseStd[r] * (dy.scalars[i] * gamma.scalars[k] - meanG - normalized.scalars[i] * meanGX)
            }
        }
        return [dx, dScale] + (shift == nil ? [] : [dShift])
    }
}
