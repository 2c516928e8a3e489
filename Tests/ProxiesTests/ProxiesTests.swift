import Autodiff
import DataFiles
import Foundation
@testable import Proxies
import SearchSpaces
import Statistics
import Testing
import NB201Space
import OFASpace

@Suite struct ProxiesTests {
    static let small = NB201SearchSpace(shape: NB201NetworkShape(channels: 4, cellsPerStage: 1))
    static let allConv = try! NB201Architecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    static let allSkip = try! NB201Architecture(parsing: "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|")
    static let disconnected = try! NB201Architecture(parsing: "|none~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")

    func network(_ a: NB201Architecture, space: NB201SearchSpace = small, input: [Int] = [3, 8, 8], classes: Int = 4) -> TrainableNetwork {
        space.makeTrainableNetwork(a, input: input, classes: classes, seed: 3)!
    }

    func batch(count: Int = 8, labels: [Int]? = nil) throws -> ProxyBatch {
        var rng = SeededGenerator(seed: 11)
        return try ProxyBatch(images: .normal(shape: [count, 3, 8, 8], using: &rng), labels: labels ?? (0..<count).map { $0 % 4 },
                              classes: 4, source: "noise")
    }

    /// The rescaled Float32 pass equals the plain sum Σ θ·∂R/∂θ where the plain pass cannot overflow.
    @Test func synflowRescalingMatchesTheDirectSum() {
        let net = network(Self.allConv)
        let direct: Double = {
            let copy = network(Self.allConv)
            for w in copy.weights { w.value = Tensor(shape: w.value.shape, scalars: w.value.scalars.map(abs)) }
            sum(copy.forward(Variable(Tensor(repeating: 1, shape: copy.inputShape(batch: 1))), normalization: .none) { $0 }).backward()
            return copy.weights.reduce(0.0) { total, w in
                total + zip(w.value.scalars, w.grad!.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
        }()
        let rescaled = ProxyMeasures.synapticFlow(net)
        #expect(abs(rescaled - log(direct)) < 1e-4, "ln synflow \(rescaled), direct \(log(direct))")
    }

    @Test func synflowRestoresTheWeightsAndOrdersObviousCases() {
        let net = network(Self.allConv)
        let before = net.weights.map(\.value)
        let conv = ProxyMeasures.synapticFlow(net)
        #expect(net.weights.map(\.value) == before)
        #expect(net.parameters.allSatisfy { $0.grad == nil || $0.grad!.scalars.allSatisfy { $0 == 0 } })
        #expect(conv > ProxyMeasures.synapticFlow(network(Self.allSkip)))
        #expect(ProxyMeasures.synapticFlow(network(Self.disconnected)) == -.infinity)
    }

    /// At the benchmark network (C = 16, N = 5, 32×32×3), synflow ranks 30 stratified architectures
    /// as NB201's CIFAR-10 table does (Abdelfattah et al. report ρ = 0.74 over all 15,625).
    @Test func synflowRanksTheBenchmarkTable() throws {
        let space = NB201SearchSpace(), index = try NB201Index.shipped()
        let accuracy = try CSVTable(contentsOf: ShippedData.path(NB201Index.shippedTable)).numericColumn("cifar10")
        let scorer = try ProxyScorer(space: space, batch: nil, dataFreeInput: [3, 32, 32], dataFreeClasses: 10)
        let archs = stride(from: 7, to: 15_625, by: 521).map(NB201Architecture.init(code:))
        let synflow = archs.map { scorer.scores($0, proxies: [.synflow])[.synflow]! }
        let rho = RankCorrelation.spearman(synflow, archs.map { accuracy[index.index(of: $0)] })
        #expect(archs.count >= 20 && rho > 0.6, "Spearman \(rho) over \(archs.count)")
    }

    @Test func jacobiEigenvaluesOfKnownMatrices() {
        #expect(SymmetricEigenvalues.of([2, 1, 1, 2], size: 2).sorted().map { ($0 * 1e9).rounded() / 1e9 } == [1, 3])
        var rng = SeededGenerator(seed: 4)
        let n = 12
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(rng.nextNormal()); a[i * n + j] = v; a[j * n + i] = v } }
        let lambda = SymmetricEigenvalues.of(a, size: n)
        let trace = (0..<n).reduce(0.0) { $0 + a[$1 * n + $1] }, frobenius = a.reduce(0) { $0 + $1 * $1 }
        #expect(abs(lambda.reduce(0, +) - trace) < 1e-9)
        #expect(abs(lambda.reduce(0) { $0 + $1 * $1 } - frobenius) < 1e-8)
    }

    @Test func jacobCovScoresKnownCorrelations() throws {
        let c = try #require(ProxyMeasures.correlationMatrix(rows: [1, 2, 3, 2, 4, 6, 3, 2, 1], count: 3, width: 3))
        #expect(c.map { ($0 * 1e12).rounded() / 1e12 } == [1, 1, -1, 1, 1, -1, -1, -1, 1])
        #expect(ProxyMeasures.correlationMatrix(rows: [1, 2, 3, 5, 5, 5], count: 2, width: 3) == nil)
        let k = 1e-5, identity = (0..<16).map { Double($0 / 4 == $0 % 4 ? 1 : 0) }
        let expected = -4 * (log(1 + k) + 1 / (1 + k))
        #expect(abs(ProxyMeasures.jacobianCovarianceScore(correlation: identity, size: 4) - expected) < 1e-9)
        // Perfectly correlated images: one eigenvalue n, the others 0, a far lower score.
        let ones = [Double](repeating: 1, count: 16)
        let expectedOnes = -(log(4 + k) + 1 / (4 + k)) - 3 * (log(k) + 1 / k)
        #expect(abs(ProxyMeasures.jacobianCovarianceScore(correlation: ones, size: 4) - expectedOnes) < 1e-3)
    }

    /// snip = Σ |θ · ∂L/∂θ| and grad_norm = Σ over weight tensors of ‖∂L/∂θ‖₂ (Abdelfattah et al.,
    /// ICLR 2021), summed here parameter by parameter from the test's own backward pass, whose
    /// gradient is checked against central differences of the loss at sampled weights.
    @Test func snipAndGradNormAreSumsOverTheParameters() throws {
        let b = try batch(), net = network(Self.allConv)
        let (snip, gradNorm) = ProxyMeasures.lossSaliency(net, batch: b)
        func loss() -> Variable { crossEntropy(net.forward(Variable(b.images), normalization: .batch) { $0 }, labels: b.labels) }
        zeroGradients(net.parameters)
        loss().backward()
        var directSnip = 0.0, directNorm = 0.0
        for w in net.weights {
            let g = try #require(w.grad)
            directSnip += zip(w.value.scalars, g.scalars).reduce(0) { $0 + abs(Double($1.0) * Double($1.1)) }
            directNorm += g.scalars.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        }
        #expect(abs(snip - directSnip) <= 1e-9 * directSnip && directSnip > 0, "snip \(snip), direct \(directSnip)")
        #expect(abs(gradNorm - directNorm) <= 1e-9 * directNorm && directNorm > 0, "grad_norm \(gradNorm), direct \(directNorm)")
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<8 {
            let w = net.weights[Int.random(in: 0..<net.weights.count, using: &rng)], i = Int.random(in: 0..<w.value.count, using: &rng)
            let g = Double(w.grad!.scalars[i]), saved = w.value, h: Float = 1e-2
            var shifted = saved
            shifted.scalars[i] = saved.scalars[i] + h
            w.value = shifted
            let up = Double(loss().value.scalars[0])
            shifted.scalars[i] = saved.scalars[i] - h
            w.value = shifted
            let down = Double(loss().value.scalars[0])
            w.value = saved
            let difference = (up - down) / Double(2 * h)
            #expect(abs(difference - g) <= 2e-3 + 0.05 * abs(g), "weight \(i): central difference \(difference), gradient \(g)")
        }
    }

    /// jacob_cov reads ∂(Σ logits)/∂image (Mellor et al.'s backward of ones), batch statistics:
    /// each entry against a central difference of the network's summed logits, over a batch of 4,
    /// and the score is that of this Jacobian's correlation matrix. A step that crosses a ReLU's or
    /// a pooling's kink differs (a few entries of the 768), so 90 % of them must agree within 1 % of
    /// the largest (measured: 0.24 %).
    @Test func jacobCovReadsTheFiniteDifferenceJacobian() throws {
        let images = try batch(count: 4).images, net = network(Self.allConv)
        let jacobian = try #require(ProxyMeasures.inputJacobian(net, images: images))
        func total(_ x: Tensor) -> Double { net.forward(Variable(x), normalization: .batch) { $0 }.value.sum() }
        let h: Float = 1e-3, largest = jacobian.scalars.map { abs(Double($0)) }.max()!
        let differences = (0..<images.count).map { i -> Double in
            var up = images, down = images
            up.scalars[i] += h
            down.scalars[i] -= h
            return abs((total(up) - total(down)) / Double(2 * h) - Double(jacobian.scalars[i]))
        }.sorted()
        let ninetieth = differences[differences.count * 9 / 10]
        #expect(ninetieth <= 0.01 * largest, "90th percentile difference \(ninetieth), largest entry \(largest)")
        let correlation = try #require(ProxyMeasures.correlationMatrix(rows: jacobian.scalars.map(Double.init), count: 4, width: images.count / 4))
        #expect(ProxyMeasures.jacobianCovariance(net, images: images) == ProxyMeasures.jacobianCovarianceScore(correlation: correlation, size: 4))
    }

    /// The loss proxies read the labels, jacob_cov does not; a cell whose output is constant
    /// scores zero saliency and the lowest jacob_cov.
    @Test func dataProxiesOnLabelsAndOnADeadCell() throws {
        let scorer = try ProxyScorer(space: Self.small, batch: try batch())
        let shuffled = try ProxyScorer(space: Self.small, batch: try batch(labels: (0..<8).map { (3 * $0 + 1) % 4 }))
        let a = scorer.scores(Self.allConv, proxies: [.jacobCov, .snip, .gradNorm]), b = shuffled.scores(Self.allConv, proxies: [.jacobCov, .snip, .gradNorm])
        #expect(a[.jacobCov]! == b[.jacobCov]! && a[.jacobCov]!.isFinite && a[.jacobCov]! > -1e8)
        #expect(a[.snip]! > 0 && a[.gradNorm]! > 0 && a[.snip]! != b[.snip]! && a[.gradNorm]! != b[.gradNorm]!)
        let dead = scorer.scores(Self.disconnected, proxies: [.jacobCov, .snip, .gradNorm])
        #expect(dead[.snip]! == 0 && dead[.gradNorm]! == 0 && dead[.jacobCov]! == -1e8)
    }

    @Test func countsAndVotes() throws {
        let scorer = try ProxyScorer(space: Self.small, batch: nil, dataFreeInput: [3, 8, 8], dataFreeClasses: 4)
        let s = scorer.scores(Self.allConv, proxies: [.params, .flops])
        #expect(s[.params]! == Double(ArchitectureCost(Self.allConv, shape: NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8, classes: 4)).parameters))
        #expect(s[.flops]! == Double(Self.small.cost(of: Self.allConv).floatingPointOperations))
        #expect(ProxyVote.meanRanks([[1, 2, 3], [3, 2, 1]]) == [2, 2, 2])
        #expect(ProxyVote.meanRanks([[1, 2, 3], [1, 3, 2]]) == [1, 2.5, 2.5])
        #expect(throws: ProxyError.unknown("synfow")) { try ZeroCostProxy(parsing: "synfow") }
    }

    @Test func badBatchesAreRefused() throws {
        #expect(throws: ProxyError.self) { try ProxyBatch(images: Tensor(zeros: [4, 3, 8, 8]), labels: [0, 1, 2], classes: 4, source: "x") }
        #expect(throws: ProxyError.self) { try ProxyBatch(images: Tensor(zeros: [2, 3, 8, 8]), labels: [0, 4], classes: 4, source: "x") }
        #expect(throws: ProxyError.self) { try ProxyScorer(space: Self.small, batch: nil) }
        #expect(throws: ProxyError.noTrainableNetwork("ofa")) { try ProxyScorer(space: OFASearchSpace(), batch: nil, dataFreeInput: [3, 224, 224], dataFreeClasses: 1000) }
    }

    @Test func bootstrapIntervalsBracketTheEstimate() {
        var rng = SeededGenerator(seed: 8)
        let a = (0..<60).map { _ in Double(rng.nextNormal()) }
        let b = a.map { $0 + 0.8 * Double(rng.nextNormal()) }
        var g = SeededGenerator(seed: 1)
        let interval = RankCorrelation.bootstrapInterval(a, b, resamples: 400, using: &g, RankCorrelation.kendallTau)
        let tau = RankCorrelation.kendallTau(a, b)
        #expect(interval.contains(tau) && interval.upperBound - interval.lowerBound > 0.05 && interval.upperBound - interval.lowerBound < 0.5)
        #expect(RankCorrelation.bootstrapInterval(a, a, resamples: 50, using: &g, RankCorrelation.spearman) == 1...1)
    }

    /// Kendall's τ-b on lists with ties, counted by hand over all pairs: τ-b = (C − D) / √((n₀ − n₁)(n₀ − n₂)),
    /// n₀ the pairs, n₁ and n₂ those tied in the first and in the second list (a pair tied in both
    /// counts in each). The parameter count and FLOPs baselines are full of ties.
    @Test func kendallTauBCountsTiesAsItsDefinitionDoes() {
        // 6 pairs: 4 concordant, 1 tied in a only, 1 in b only: 4 / √(5 · 5) (τ-a would be 4 / 6).
        #expect(abs(RankCorrelation.kendallTau([1, 2, 2, 3], [1, 2, 3, 3]) - 0.8) < 1e-12)
        // 10 pairs: 3 concordant, 4 discordant, 1 tied in a only, 1 in b only, 1 in both:
        // n₁ = n₂ = 2, so −1 / √(8 · 8).
        #expect(abs(RankCorrelation.kendallTau([1, 1, 2, 3, 3], [2, 2, 1, 3, 1]) - -0.125) < 1e-12)
        // All of a tied: no order to agree with.
        #expect(RankCorrelation.kendallTau([2, 2, 2], [1, 2, 3]) == 0)
    }
}
