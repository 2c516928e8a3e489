import Autodiff
import Foundation
import Testing
@testable import Search
import SearchSpaces

@Suite struct MinNormSolverTests {
    @Test func orthogonalUnitVectorsMeetHalfway() {
        let s = MinNormSolver.solve([[1, 0], [0, 1]])
        #expect(abs(s.weights[0] - 0.5) < 1e-6 && abs(s.squaredNorm - 0.5) < 1e-9)
    }

    @Test func opposingVectorsCancel() {
        let s = MinNormSolver.solve([[2, 0], [-1, 0]])
        // c·2 − (1−c) = 0 → c = 1/3.
        #expect(abs(s.weights[0] - 1.0 / 3) < 1e-6 && s.squaredNorm < 1e-12)
    }

    @Test func aDominatedVertexGetsAllTheWeight() {
        // (0.2, 0.2) is the min-norm point of the hull of these three.
        let s = MinNormSolver.solve([[1, 1], [0.2, 0.2], [1, 3]])
        #expect(abs(s.weights[1] - 1) < 1e-6 && abs(s.squaredNorm - 0.08) < 1e-9)
    }

    @Test func threeVectorsAroundTheOriginReachZero() {
        let s = MinNormSolver.solve(MinNormSolver.normalized([[1, 0], [0, 1], [-1, -1]]))
        // With r = 1/√2: a(1,0) + b(0,1) + c(−r,−r) = 0 with a + b + c = 1: a = b = 1/(2 + √2), c = √2/(2 + √2).
        let a = 1 / (2 + 2.0.squareRoot())
        #expect(s.squaredNorm < 1e-6, "norm² \(s.squaredNorm)")
        #expect(abs(s.weights[0] - a) < 1e-2 && abs(s.weights[2] - a * 2.0.squareRoot()) < 1e-2)
        #expect(s.iterations <= 250 && abs(s.weights.reduce(0, +) - 1) < 1e-9)
    }

    @Test func iterationsAreBounded() {
        var rng = SeededGenerator(seed: 3)
        let vectors = (0..<13).map { _ in (0..<50).map { _ in Double(rng.nextNormal()) } }
        let s = MinNormSolver.solve(MinNormSolver.normalized(vectors), tolerance: 0, maxIterations: 250)
        #expect(s.iterations == 250 && s.weights.allSatisfy { $0 >= 0 })
    }
}

@Suite struct ReinMaxTests {
    @Test func gradientFollowsTheFormula() {
        var rng = SeededGenerator(seed: 1)
        let logits = Variable(Tensor.uniform(shape: [6, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        var sampler = SeededGenerator(seed: 2)
        let d = reinMaxSample(logits, using: &sampler)
        for r in 0..<6 { #expect(d.value.scalars[(r * 5)..<(r * 5 + 5)].reduce(0, +) == 1) }
        let g = Tensor.uniform(shape: [6, 5], low: -1, high: 1, using: &rng)
        d.backward(seed: g)
        // The formula written out per entry in Double.
        let pi = softmax(logits.value)
        for r in 0..<6 {
            let idx = Array((r * 5)..<(r * 5 + 5))
            let pi1 = idx.map { 0.5 * (Double(pi.scalars[$0]) + Double(d.value.scalars[$0])) }
            let dot1 = zip(pi1, idx).reduce(0.0) { $0 + $1.0 * Double(g.scalars[$1.1]) }
            let dot = idx.reduce(0.0) { $0 + Double(pi.scalars[$1]) * Double(g.scalars[$1]) }
            for (o, i) in idx.enumerated() {
                let want = 2 * pi1[o] * (Double(g.scalars[i]) - dot1) - 0.5 * Double(pi.scalars[i]) * (Double(g.scalars[i]) - dot)
                #expect(abs(Double(logits.grad!.scalars[i]) - want) < 1e-5)
            }
        }
        // Unsampled operations still receive gradient.
        let unsampled = (0..<30).filter { d.value.scalars[$0] == 0 }
        #expect(unsampled.contains { logits.grad!.scalars[$0] != 0 })
    }

    @Test func samplesFollowTheSoftmax() {
        let logits = Variable(Tensor(shape: [1, 5], scalars: [0, 1, 2, 0, -1]))
        let p = softmax(logits.value).scalars
        var rng = SeededGenerator(seed: 5)
        var counts = [Double](repeating: 0, count: 5)
        for _ in 0..<20_000 { counts[reinMaxSample(logits, using: &rng).value.scalars.firstIndex(of: 1)!] += 1 }
        for o in 0..<5 { #expect(abs(counts[o] / 20_000 - Double(p[o])) < 0.015) }
    }
}

@Suite struct HypernetworkTests {
    @Test func logitsHaveTheCellShapeAndStartUniform() {
        let h = Hypernetwork(objectives: 2, deviceInputs: 11, seed: 1)
        let alpha = h(preference: Variable(Tensor(shape: [2], scalars: [0.3, 0.7])), device: Variable(Tensor(repeating: 0.5, shape: [11])))
        #expect(alpha.shape == [6, 5])
        let p = softmax(alpha.value)
        #expect(p.scalars.allSatisfy { abs($0 - 0.2) < 1e-6 })
    }

    @Test func everyPreferenceComponentMovesTheLogits() {
        let h = Hypernetwork(objectives: 3, deviceInputs: 4, seed: 2)
        var rng = SeededGenerator(seed: 3)
        for p in h.output.parameters { p.value = Tensor.uniform(shape: p.shape, low: -0.5, high: 0.5, using: &rng) }
        let r = Variable(Tensor(shape: [3], scalars: [0.2, 0.3, 0.5]), requiresGrad: true)
        let alpha = h(preference: r, device: Variable(Tensor(repeating: 1, shape: [4])))
        alpha.backward(seed: Tensor.uniform(shape: [6, 5], low: -1, high: 1, using: &rng))
        #expect(r.grad!.scalars.allSatisfy { abs($0) > 1e-6 }, "\(r.grad!.scalars)")
    }
}
