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

    @Test func embeddingGathersRowsAndScattersTheirGradients() {
        var rng = SeededGenerator(seed: 7)
        let table = Tensor.uniform(shape: [5, 3], low: -1, high: 1, using: &rng)
        #expect(embedding(table, ids: [4, 0]).scalars == Array(table.scalars[12..<15]) + Array(table.scalars[0..<3]))
        expectGradientsMatch([table], probes: 15) { embedding($0[0], ids: [1, 3, 1, 0]) }   // id 1 twice: its gradient adds up
    }

    /// Position 0 is left as it is, lengths are kept, the entries past the rotated ones pass
    /// through, and the gradient is the backwards rotation.
    @Test func rotaryEmbeddingTurnsPairsByPosition() {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor.uniform(shape: [2, 5, 8], low: -1, high: 1, using: &rng)
        let y = rotaryEmbedding(x, dimensions: 4)
        #expect(Array(y.scalars[0..<8]) == Array(x.scalars[0..<8]))
        for row in 0..<10 {
            let r = (row * 8)..<(row * 8 + 8)
            #expect(Array(y.scalars[r].suffix(4)) == Array(x.scalars[r].suffix(4)))
            for k in 0..<2 {
                let before = x.scalars[r.lowerBound + k] * x.scalars[r.lowerBound + k] + x.scalars[r.lowerBound + k + 2] * x.scalars[r.lowerBound + k + 2]
                let after = y.scalars[r.lowerBound + k] * y.scalars[r.lowerBound + k] + y.scalars[r.lowerBound + k + 2] * y.scalars[r.lowerBound + k + 2]
                #expect(abs(before - after) < 1e-5)
            }
        }
        // Position 1, k = 0: angle 1 rad.
        let (a, b) = (x.scalars[8], x.scalars[10])
        #expect(abs(y.scalars[8] - (a * Float(cos(1.0)) - b * Float(sin(1.0)))) < 1e-6)
        expectGradientsMatch([x], probes: 40) { rotaryEmbedding($0[0], dimensions: 4) }
    }

    @Test func causalAttentionGradients() {
        var rng = SeededGenerator(seed: 9)
        let shape = [2, 4, 3]
        let q = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng), k = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng)
        let v = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng)
        expectGradientsMatch([q, k, v], probes: 24, step: 1e-3) { causalAttention($0[0], $0[1], $0[2]) }
    }

    /// The first position sees only itself; the second, the softmax of its two scores; a later
    /// key or value never changes an earlier output.
    @Test func causalAttentionIsCausalAndASoftmax() {
        var rng = SeededGenerator(seed: 10)
        let shape = [1, 3, 2]
        let q = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng), k = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng)
        var v = Tensor.uniform(shape: shape, low: -1, high: 1, using: &rng)
        let out = causalAttention(q, k, v)
        #expect(abs(out.scalars[0] - v.scalars[0]) < 1e-6 && abs(out.scalars[1] - v.scalars[1]) < 1e-6)
        let s0 = (q.scalars[2] * k.scalars[0] + q.scalars[3] * k.scalars[1]) / Float(2).squareRoot()
        let s1 = (q.scalars[2] * k.scalars[2] + q.scalars[3] * k.scalars[3]) / Float(2).squareRoot()
        let p0 = 1 / (1 + exp(s1 - s0))
        #expect(abs(out.scalars[2] - (p0 * v.scalars[0] + (1 - p0) * v.scalars[2])) < 1e-5)
        v.scalars[4] += 10
        #expect(Array(causalAttention(q, k, v).scalars[0..<4]) == Array(out.scalars[0..<4]))
    }

    /// Splitting rows [B·T, H·D] into heads and merging them back is the identity; both are taped.
    @Test func headsSplitAndMerge() {
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.uniform(shape: [2 * 3, 4 * 2], low: -1, high: 1, using: &rng)   // B 2, T 3, H 4, D 2
        let split = splitHeads(x, batch: 2, heads: 4)
        #expect(split.shape == [8, 3, 2] && mergeHeads(split, heads: 4).scalars == x.scalars)
        // Sequence 1, token 2, head 3 is group 1·4 + 3, row 2.
        #expect(Array(split.scalars[((7 * 3) + 2) * 2..<((7 * 3) + 2) * 2 + 2]) == Array(x.scalars[(5 * 8 + 6)..<(5 * 8 + 8)]))
        expectGradientsMatch([x], probes: 48) { splitHeads($0[0], batch: 2, heads: 4) }
        expectGradientsMatch([split], probes: 48) { mergeHeads($0[0], heads: 4) }
    }
}
