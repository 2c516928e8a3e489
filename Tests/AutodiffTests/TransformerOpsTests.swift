import Foundation
import Testing
@testable import Autodiff

/// Finite-difference gradients and hand-computed values of the Transformer ops.
@Suite struct TransformerOpsTests {
    @Test func siluAndGeluGradients() {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.uniform(shape: [4, 30], low: -4, high: 4, using: &rng)
        expectGradientsMatch([x], probes: 120) { silu($0[0]) }
        expectGradientsMatch([x], probes: 120) { gelu($0[0]) }
    }

    /// SiLU(x) = x/(1 + e^−x), GELU(x) = x·Φ(x): at 0, ±1 and ±3.
    @Test func siluAndGeluValues() {
        let x = Tensor(shape: [5], scalars: [-3, -1, 0, 1, 3])
        let expectedSilu: [Float] = [-0.142278, -0.268941, 0, 0.731059, 2.857722]
        let expectedGelu: [Float] = [-0.004050, -0.158655, 0, 0.841345, 2.995950]
        for (got, want) in zip(silu(x).scalars, expectedSilu) { #expect(abs(got - want) < 1e-5, "silu \(got) vs \(want)") }
        for (got, want) in zip(gelu(x).scalars, expectedGelu) { #expect(abs(got - want) < 1e-5, "gelu \(got) vs \(want)") }
    }

    @Test func layerNormGradients() {
        var rng = SeededGenerator(seed: 6)
        let x = Tensor.uniform(shape: [3, 8], low: -2, high: 2, using: &rng)
        let scale = Tensor.uniform(shape: [8], low: 0.5, high: 1.5, using: &rng), shift = Tensor.uniform(shape: [8], low: -1, high: 1, using: &rng)
        expectGradientsMatch([x, scale, shift], probes: 24, step: 1e-3) { layerNorm($0[0], scale: $0[1], shift: $0[2]) }
        expectGradientsMatch([x, scale], probes: 24, step: 1e-3) { layerNorm($0[0], scale: $0[1], shift: nil) }
    }

    /// Each row to zero mean and unit (biased) variance, then scaled and shifted.
    @Test func layerNormValues() {
        let x = Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -2, -2, 2, 2])
        let y = layerNorm(x, scale: Tensor(shape: [4], scalars: [1, 1, 2, 2]), shift: Tensor(shape: [4], scalars: [0, 0, 0, 1]), epsilon: 0)
        let a = Float(1.25).squareRoot()
        let expected: [Float] = [-1.5 / a, -0.5 / a, 2 * 0.5 / a, 2 * 1.5 / a + 1, -1, -1, 2, 3]
        for (got, want) in zip(y.scalars, expected) { #expect(abs(got - want) < 1e-5, "\(got) vs \(want)") }
    }
}
