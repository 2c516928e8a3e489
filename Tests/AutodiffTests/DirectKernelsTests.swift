import Testing
@testable import Autodiff

/// The direct kernels against im2col and sgemm (3×3 at both strides, 1×1), on shapes that exercise
/// every remainder and block shape: output channels not a multiple of the 8-channel block,
/// positions not a multiple of the runs of 16 (blocks of 1, 2 and 3 runs: 8 × 12 takes 3), planes
/// of one row, one column and one cell, and batches.
@Suite(.enabled(if: CPUKernels.avx512, "this CPU has no AVX-512: the deployed graph uses conv2d"))
struct DirectConvolutionTests {
    /// kernelAndStride 0: 1×1; 1 and 2: 3×3 at that stride.
    @Test(arguments: [0, 1, 2], [[1, 3, 16, 32, 32], [1, 16, 48, 32, 32], [2, 5, 9, 7, 3], [1, 1, 1, 1, 1], [1, 64, 64, 8, 8],
                              [1, 2, 17, 2, 5], [3, 32, 32, 16, 16], [1, 4, 8, 1, 9], [1, 16, 32, 33, 31], [1, 4, 12, 8, 12]])
    func matchesIm2colConvolution(kernelAndStride: Int, shape: [Int]) throws {
        let (kernel, stride) = kernelAndStride == 0 ? (1, 1) : (3, kernelAndStride)
        let (batch, inC, outC, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var g = SeededGenerator(seed: UInt64(shape.reduce(0, +)))
        let x = Tensor.uniform(shape: [batch, inC, h, w], low: -1, high: 1, using: &g)
        let weight = Tensor.uniform(shape: [outC, inC, kernel, kernel], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [outC], low: -1, high: 1, using: &g)
        let padding = kernel / 2
        let direct = try #require(DirectConvolution(weight: weight, bias: bias, stride: stride, padding: padding))
        let want = conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
        let got = direct(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-4 * Float(inC * kernel * kernel), "\(kernel)×\(kernel) stride \(stride), \(shape): \(got.maxAbsDifference(want))")
    }

    @Test func onlyTheKindsItRuns() {
        var g = SeededGenerator(seed: 1)
        let bias = Tensor(zeros: [4])
        #expect(DirectConvolution(weight: .uniform(shape: [4, 2, 1, 1], using: &g), bias: bias, stride: 2, padding: 0) == nil)
        #expect(DirectConvolution(weight: .uniform(shape: [4, 2, 1, 1], using: &g), bias: bias, stride: 1, padding: 1) == nil)
        #expect(DirectConvolution(weight: .uniform(shape: [4, 2, 5, 5], using: &g), bias: bias, stride: 1, padding: 2) == nil)
        #expect(DirectConvolution(weight: .uniform(shape: [4, 2, 3, 3], using: &g), bias: bias, stride: 3, padding: 1) == nil)
        #expect(DirectConvolution(weight: .uniform(shape: [4, 2, 3, 3], using: &g), bias: bias, stride: 1, padding: 0) == nil)
    }
}

/// The direct depthwise kernel against the portable one: both strides, k = 3, 5, 7 (by bands of
/// rows, with heights that are not multiples of the band, and on planes too small for a band)
/// and k = 9 (by runs of positions), planes smaller than the kernel, widths that are not
/// multiples of 16 (odd and even numbers of runs per row), and a batch.
@Suite(.enabled(if: CPUKernels.avx512, "this CPU has no AVX-512: the deployed graph uses depthwiseConv2d"))
struct DirectDepthwiseConvolutionTests {
    /// [batch, channels, height, width, kernel]
    @Test(arguments: [1, 2], [[1, 3, 7, 7, 3], [2, 5, 9, 7, 5], [1, 2, 1, 1, 3], [1, 4, 8, 8, 7], [1, 16, 112, 112, 3],
                              [1, 8, 13, 11, 7], [1, 3, 5, 17, 5], [1, 1, 2, 3, 7], [1, 6, 14, 14, 5],
                              [1, 3, 49, 49, 7], [1, 2, 12, 20, 9]])
    func matchesThePortableKernel(stride: Int, shape: [Int]) throws {
        let (batch, channels, h, w, k) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var g = SeededGenerator(seed: UInt64(shape.reduce(stride, +)))
        let x = Tensor.uniform(shape: [batch, channels, h, w], low: -1, high: 1, using: &g)
        let weight = Tensor.uniform(shape: [channels, 1, k, k], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [channels], low: -1, high: 1, using: &g)
        let direct = try #require(DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride))
        let want = depthwiseConv2d(x, weight: weight, bias: bias, stride: stride)
        let got = direct(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-4 * Float(k * k), "stride \(stride), \(shape): \(got.maxAbsDifference(want))")
    }

    @Test func onlyTheKindsItRuns() {
        var g = SeededGenerator(seed: 1)
        let bias = Tensor(zeros: [4])
        #expect(DirectDepthwiseConvolution(weight: .uniform(shape: [4, 1, 3, 3], using: &g), bias: bias, stride: 3) == nil)
        #expect(DirectDepthwiseConvolution(weight: .uniform(shape: [4, 1, 17, 17], using: &g), bias: bias, stride: 1) == nil)
    }
}

/// Activations fused into the direct kernels: the same bits as the kernel followed by `relu` or
/// `hardSwish`, and fused by the deployed graph only where the activation alone reads the value.
@Suite(.enabled(if: CPUKernels.avx512, "this CPU has no AVX-512: nothing is fused"))
struct FusedActivationTests {
    @Test(arguments: [FusedActivation.relu, .hardSwish])
    func aFusedActivationEqualsTheActivationAfterTheKernel(activation: FusedActivation) throws {
        var g = SeededGenerator(seed: 5)
        // Values around the h-swish corners at −3 and 3.
        let x = Tensor.uniform(shape: [2, 6, 13, 11], low: -4, high: 4, using: &g)
        let apply: (Tensor) -> Tensor = activation == .relu ? { relu($0) } : { hardSwish($0) }
        for (kernel, stride) in [(1, 1), (3, 1), (3, 2)] {
            var direct = try #require(DirectConvolution(weight: .uniform(shape: [9, 6, kernel, kernel], low: -1, high: 1, using: &g),
                                                        bias: .uniform(shape: [9], low: -1, high: 1, using: &g), stride: stride, padding: kernel / 2))
            let plain = direct(x)
            direct.activation = activation
            #expect(direct(x).scalars == apply(plain).scalars, "\(kernel)×\(kernel) stride \(stride)")
        }
        for (kernel, stride) in [(3, 1), (7, 2), (9, 1)] {
            var depthwise = try #require(DirectDepthwiseConvolution(weight: .uniform(shape: [6, 1, kernel, kernel], low: -1, high: 1, using: &g),
                                                                    bias: .uniform(shape: [6], low: -1, high: 1, using: &g), stride: stride))
            let plain = depthwise(x)
            depthwise.activation = activation
            #expect(depthwise(x).scalars == apply(plain).scalars, "depthwise \(kernel)×\(kernel) stride \(stride)")
        }
    }

    /// A ReLU applied to the input as it is read gives the convolution of the ReLU, bit for bit.
    @Test func aReLUOnTheInputEqualsTheConvolutionOfTheReLU() throws {
        var g = SeededGenerator(seed: 8)
        let x = Tensor.uniform(shape: [2, 5, 13, 11], low: -2, high: 2, using: &g)
        for (kernel, stride) in [(1, 1), (3, 1), (3, 2)] {
            var direct = try #require(DirectConvolution(weight: .uniform(shape: [9, 5, kernel, kernel], low: -1, high: 1, using: &g),
                                                        bias: .uniform(shape: [9], low: -1, high: 1, using: &g), stride: stride, padding: kernel / 2))
            let want = direct(relu(x))
            direct.reluInput = true
            #expect(direct(x).scalars == want.scalars, "\(kernel)×\(kernel) stride \(stride)")
        }
    }

    /// A ReLU of the input that a 3×3 and a 1×1 convolution alone read (fused into both), a ReLU
    /// that a convolution and a sum read (not fused) and one that is the graph's output (not fused).
    @Test func theGraphFusesOnlyReLUsThatOnlyConvolutionsRead() {
        var g = SeededGenerator(seed: 9)
        let x = Tensor.uniform(shape: [1, 4, 9, 9], low: -2, high: 2, using: &g)
        let w3 = Tensor.uniform(shape: [4, 4, 3, 3], low: -1, high: 1, using: &g), w1 = Tensor.uniform(shape: [4, 4, 1, 1], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [4], low: -1, high: 1, using: &g)
        var graph = InferenceGraph(inputShape: x.shape)
        let r1 = graph.add(.relu, [0])
        let c1 = graph.add(.convolution(weight: w3, bias: bias, stride: 1, padding: 1), [r1])
        let c2 = graph.add(.convolution(weight: w1, bias: bias, stride: 1, padding: 0), [r1])
        let r2 = graph.add(.relu, [graph.add(.sum, [c1, c2, 0])])
        let t = graph.add(.sum, [graph.add(.convolution(weight: w1, bias: bias, stride: 1, padding: 0), [r2]), r2])
        graph.finish(output: graph.add(.relu, [t]))
        #expect(graph.nodes.map(\.appliedByReaders) == [true, false, false, false, false, false, false, false])

        let a = relu(x)
        let b = relu(Tensor.elementwiseSum([conv2d(a, weight: w3, bias: bias, stride: 1, padding: 1), conv2d(a, weight: w1, bias: bias, stride: 1, padding: 0), x]))
        let want = relu(Tensor.elementwiseSum([conv2d(b, weight: w1, bias: bias, stride: 1, padding: 0), b]))
        #expect(graph.run(x).maxAbsDifference(want) < 1e-3)
    }

    /// conv → relu (fused), conv → h-swish whose input a sum also reads (not fused), and a
    /// depthwise convolution → relu, the graph's output (fused).
    @Test func theGraphFusesOnlyActivationsThatAloneReadAConvolution() {
        var g = SeededGenerator(seed: 6)
        let x = Tensor.uniform(shape: [1, 4, 9, 9], low: -2, high: 2, using: &g)
        let w1 = Tensor.uniform(shape: [4, 4, 3, 3], low: -1, high: 1, using: &g), w2 = Tensor.uniform(shape: [4, 4, 1, 1], low: -1, high: 1, using: &g)
        let wd = Tensor.uniform(shape: [4, 1, 5, 5], low: -1, high: 1, using: &g), bias = Tensor.uniform(shape: [4], low: -1, high: 1, using: &g)
        var graph = InferenceGraph(inputShape: x.shape)
        let a = graph.add(.relu, [graph.add(.convolution(weight: w1, bias: bias, stride: 1, padding: 1), [0])])
        let c = graph.add(.convolution(weight: w2, bias: bias, stride: 1, padding: 0), [a])
        let s = graph.add(.sum, [graph.add(.hardSwish, [c]), c])
        graph.finish(output: graph.add(.relu, [graph.add(.depthwiseConvolution(weight: wd, bias: bias, stride: 1), [s])]))
        #expect(graph.nodes.map(\.appliedByInput) == [false, true, false, false, false, false, true])

        let a0 = relu(conv2d(x, weight: w1, bias: bias, stride: 1, padding: 1))
        let c0 = conv2d(a0, weight: w2, bias: bias, stride: 1, padding: 0)
        let want = relu(depthwiseConv2d(Tensor.elementwiseSum([hardSwish(c0), c0]), weight: wd, bias: bias, stride: 1))
        #expect(graph.run(x).maxAbsDifference(want) < 1e-3)
    }
}

/// The deployed graph's global average pooling against the portable one, on planes of 1 cell to
/// more than one 64-float step, with a tail in every accumulator.
@Suite(.enabled(if: CPUKernels.avx512, "this CPU has no AVX-512: the deployed graph uses globalAveragePool"))
struct DirectGlobalAveragePoolTests {
    @Test(arguments: [[1, 1], [3, 5], [7, 7], [13, 13], [1, 65], [9, 20]])
    func matchesThePortableMeans(plane: [Int]) {
        var g = SeededGenerator(seed: UInt64(plane[0] * 100 + plane[1]))
        let x = Tensor.uniform(shape: [2, 5, plane[0], plane[1]], low: -1, high: 3, using: &g)
        let got = directGlobalAveragePool(x), want = globalAveragePool(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-5, "\(plane): \(got.maxAbsDifference(want))")
    }
}
