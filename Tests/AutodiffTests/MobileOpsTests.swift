import Testing
@testable import Autodiff

/// Finite-difference gradients and hand-computed forward cases of the MobileNetV3 ops.
@Suite struct MobileOpsTests {
    /// Entries in [−5, 5] kept `margin` away from the kinks of h-swish and h-sigmoid at ±3.
    static func awayFromKinks(_ shape: [Int], margin: Float = 0.05, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        var t = Tensor.uniform(shape: shape, low: -5, high: 5, using: &rng)
        for i in 0..<t.count {
            for kink in [Float(-3), 3] where abs(t.scalars[i] - kink) < margin {
                t.scalars[i] = kink + (t.scalars[i] < kink ? -2 * margin : 2 * margin)
            }
        }
        return t
    }

    @Test(arguments: [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1), (7, 2)])
    func depthwiseConvolutionGradient(kernel: Int, stride: Int) {
        var rng = SeededGenerator(seed: UInt64(kernel * 10 + stride))
        let x = Tensor.uniform(shape: [2, 3, 9, 8], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [3, 1, kernel, kernel], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform(shape: [3], low: -1, high: 1, using: &rng)
        expectGradientsMatch([x, w, b], probes: 40) { depthwiseConv2d($0[0], weight: $0[1], bias: $0[2], stride: stride) }
        expectGradientsMatch([x, w]) { depthwiseConv2d($0[0], weight: $0[1], stride: stride) }
    }

    /// Depthwise convolution equals a dense convolution whose weight is zero off the diagonal.
    /// Planes small (every column a border column) and wide (eight-column chunks, their
    /// remainders and both borders), odd and even sides, strides 1, 2 and 3.
    @Test(arguments: [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1), (7, 2), (3, 3), (5, 3)], [(11, 10), (29, 38), (7, 3)])
    func depthwiseConvolutionMatchesBlockDiagonalConvolution(filter: (kernel: Int, stride: Int), side: (Int, Int)) {
        let (kernel, stride) = filter
        var rng = SeededGenerator(seed: 5)
        let c = 4
        let x = Tensor.uniform(shape: [2, c, side.0, side.1], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [c, 1, kernel, kernel], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform(shape: [c], low: -1, high: 1, using: &rng)
        var dense = Tensor(zeros: [c, c, kernel, kernel])
        for o in 0..<c { for i in 0..<(kernel * kernel) {
            dense.scalars[(o * c + o) * kernel * kernel + i] = w.scalars[o * kernel * kernel + i]
        } }
        let got = depthwiseConv2d(x, weight: w, bias: b, stride: stride)
        let want = conv2d(x, weight: dense, bias: b, stride: stride, padding: kernel / 2)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-5)
    }

    /// A 3×3 all-ones kernel over a 3×3 plane of 1…9 with same padding, by hand.
    @Test func depthwiseConvolutionHandCase() {
        let x = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = Tensor(repeating: 1, shape: [1, 1, 3, 3])
        let y = depthwiseConv2d(x, weight: w, bias: Tensor(shape: [1], scalars: [0.5]))
        // Corners sum their 2×2 neighbourhood, edges 2×3, the centre all nine.
        #expect(y.scalars == [12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5])
        let strided = depthwiseConv2d(x, weight: w, stride: 2)
        #expect(strided.shape == [1, 1, 2, 2])
        #expect(strided.scalars == [12, 16, 24, 28])
    }

    @Test func hardSwishAndSigmoidGradients() {
        let x = Self.awayFromKinks([3, 40], seed: 3)
        expectGradientsMatch([x], probes: 120) { hardSwish($0[0]) }
        expectGradientsMatch([x], probes: 120) { hardSigmoid($0[0]) }
    }

    @Test func hardSwishAndSigmoidValues() {
        let x = Tensor(shape: [6], scalars: [-4, -3, -1.5, 0, 1.5, 4])
        #expect(hardSigmoid(x).scalars == [0, 0, 0.25, 0.5, 0.75, 1])
        #expect(hardSwish(x).scalars == [0, 0, -0.375, 0, 1.125, 4])
    }

    @Test func scaleChannelsGradient() {
        var rng = SeededGenerator(seed: 8)
        expectGradientsMatch([.uniform(shape: [2, 3, 2, 3], low: -1, high: 1, using: &rng),
                              .uniform(shape: [2, 3], low: -1, high: 1, using: &rng)]) { scaleChannels($0[0], by: $0[1]) }
    }

    @Test func squeezeExcitationGradient() {
        var rng = SeededGenerator(seed: 12)
        // Inputs scaled up so the excitation logits spread over h-sigmoid's linear range and beyond.
        let x = Tensor.uniform(shape: [2, 4, 3, 3], low: -1, high: 1, using: &rng).scaled(by: 3)
        let inputs: [Tensor] = [x, .uniform(shape: [2, 4], low: -1, high: 1, using: &rng),
                                .uniform(shape: [2], low: -1, high: 1, using: &rng),
                                .uniform(shape: [4, 2], low: -1, high: 1, using: &rng),
                                .uniform(shape: [4], low: -1, high: 1, using: &rng)]
        expectGradientsMatch(inputs, probes: 40) {
            squeezeExcitation($0[0], reduce: $0[1], reduceBias: $0[2], expand: $0[3], expandBias: $0[4])
        }
    }

    /// One channel pair by hand: pool → reduce → ReLU → expand → h-sigmoid → scale.
    @Test func squeezeExcitationHandCase() {
        // Channel means 1 and 3.
        let x = Variable(Tensor(shape: [1, 2, 1, 2], scalars: [0, 2, 2, 4]))
        let y = squeezeExcitation(x, reduce: Variable(Tensor(shape: [1, 2], scalars: [1, -1])),
                                  reduceBias: Variable(Tensor(shape: [1], scalars: [3])),
                                  expand: Variable(Tensor(shape: [2, 1], scalars: [2, -1])),
                                  expandBias: Variable(Tensor(shape: [2], scalars: [0, 1]))).value
        // reduce: 1 − 3 + 3 = 1 → ReLU 1 → expand (2, 0) → h-sigmoid (5/6, 1/2).
        let expected: [Float] = [0, 2 * 5 / 6, 1, 2]
        for (a, b) in zip(y.scalars, expected) { #expect(abs(a - b) < 1e-6) }
    }

    /// conv → inference BN equals the folded convolution, for dense and depthwise weights.
    @Test func foldedBatchNormMatchesConvolutionThenBatchNorm() {
        var rng = SeededGenerator(seed: 21)
        let x = Tensor.uniform(shape: [2, 3, 6, 6], low: -1, high: 1, using: &rng)
        var stats = RunningStatistics(channels: 3)
        stats.mean = [0.3, -0.7, 1.2]
        stats.variance = [0.5, 2.0, 0.1]
        let gamma = Tensor(shape: [3], scalars: [1.5, -0.5, 0.8]), beta = Tensor(shape: [3], scalars: [0.1, 0.2, -0.3])
        let bias = Tensor(shape: [3], scalars: [0.4, -0.1, 0.05])

        let dense = Tensor.uniform(shape: [3, 3, 3, 3], low: -1, high: 1, using: &rng)
        let folded = foldBatchNorm(weight: dense, bias: bias, statistics: stats, scale: gamma, shift: beta)
        let direct = batchNorm(conv2d(x, weight: dense, bias: bias, stride: 2, padding: 1), statistics: stats, scale: gamma, shift: beta)
        #expect(conv2d(x, weight: folded.weight, bias: folded.bias, stride: 2, padding: 1).maxAbsDifference(direct) < 1e-5)

        let depthwise = Tensor.uniform(shape: [3, 1, 5, 5], low: -1, high: 1, using: &rng)
        let foldedDepthwise = foldBatchNorm(weight: depthwise, bias: nil, statistics: stats, scale: gamma, shift: beta)
        let directDepthwise = batchNorm(depthwiseConv2d(x, weight: depthwise), statistics: stats, scale: gamma, shift: beta)
        #expect(depthwiseConv2d(x, weight: foldedDepthwise.weight, bias: foldedDepthwise.bias).maxAbsDifference(directDepthwise) < 1e-5)
    }
}
