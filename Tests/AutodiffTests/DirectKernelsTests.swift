import Testing
@testable import Autodiff

/// The vectorised kernel paths this CPU executes: every test of a kernel runs on each of them
/// (AVX2 on an AVX-512 host too), against the portable kernels.
let vectorPaths = CPUKernels.runnable.filter { $0 != .portable }
let noVectorPath = "this CPU executes neither AVX2 with FMA nor AVX-512: the deployed graph runs the portable kernels"

/// Cells of two tensors of one shape whose bits differ.
func differingCells(_ a: Tensor, _ b: Tensor) -> Int {
    precondition(a.shape == b.shape, "differingCells: shapes \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).filter { $0.bitPattern != $1.bitPattern }.count
}

/// The direct kernels against im2col and sgemm (3×3 at both strides, 1×1), on shapes that exercise
/// every remainder and block shape: output channels not a multiple of the 8-channel block,
/// positions not a multiple of the runs of 8 or 16 (blocks of 1, 2 and 3 runs: 8 × 12 takes 3),
/// planes of one row, one column and one cell, batches, 1×1 planes 4 KiB apart (read from a
/// staggered copy) and an input of more than 256 KiB (positions outermost); on every vector path
/// the CPU executes.
@Suite(.enabled(if: !vectorPaths.isEmpty, "\(noVectorPath)"))
struct DirectConvolutionTests {
    @Test(arguments: vectorPaths, [[1, 3, 16, 32, 32], [1, 16, 48, 32, 32], [2, 5, 9, 7, 3], [1, 1, 1, 1, 1], [1, 64, 64, 8, 8],
                                   [1, 2, 17, 2, 5], [3, 32, 32, 16, 16], [1, 4, 8, 1, 9], [1, 16, 32, 33, 31], [1, 4, 12, 8, 12],
                                   [1, 72, 20, 32, 32]])
    func matchesIm2colConvolution(path: KernelPath, shape: [Int]) throws {
        for kernelAndStride in 0...2 { try matchesIm2colConvolution(path: path, kernelAndStride: kernelAndStride, shape: shape) }
    }

    /// kernelAndStride 0: 1×1; 1 and 2: 3×3 at that stride.
    func matchesIm2colConvolution(path: KernelPath, kernelAndStride: Int, shape: [Int]) throws {
        let (kernel, stride) = kernelAndStride == 0 ? (1, 1) : (3, kernelAndStride)
        let (batch, inC, outC, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var g = SeededGenerator(seed: UInt64(shape.reduce(0, +)))
        let x = Tensor.uniform(shape: [batch, inC, h, w], low: -1, high: 1, using: &g)
        let weight = Tensor.uniform(shape: [outC, inC, kernel, kernel], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [outC], low: -1, high: 1, using: &g)
        let padding = kernel / 2
        let direct = try #require(DirectConvolution(weight: weight, bias: bias, stride: stride, padding: padding, path: path))
        let want = conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
        let got = direct(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-4 * Float(inC * kernel * kernel), "\(path) \(kernel)×\(kernel) stride \(stride), \(shape): \(got.maxAbsDifference(want))")
    }

    @Test func onlyTheKindsItRuns() {
        #expect(DirectConvolution(weight: Tensor(zeros: [4, 2, 3, 3]), bias: Tensor(zeros: [4]), stride: 1, padding: 1, path: .portable) == nil)
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
/// multiples of 8 or 16 (odd and even numbers of runs per row), and a batch; on every vector path
/// the CPU executes.
@Suite(.enabled(if: !vectorPaths.isEmpty, "\(noVectorPath)"))
struct DirectDepthwiseConvolutionTests {
    /// [batch, channels, height, width, kernel]
    @Test(arguments: vectorPaths, [[1, 3, 7, 7, 3], [2, 5, 9, 7, 5], [1, 2, 1, 1, 3], [1, 4, 8, 8, 7], [1, 16, 112, 112, 3],
                                   [1, 8, 13, 11, 7], [1, 3, 5, 17, 5], [1, 1, 2, 3, 7], [1, 6, 14, 14, 5],
                                   [1, 3, 49, 49, 7], [1, 2, 12, 20, 9], [1, 2, 9, 25, 3]])
    func matchesThePortableKernel(path: KernelPath, shape: [Int]) throws {
        for stride in 1...2 { try matchesThePortableKernel(path: path, stride: stride, shape: shape) }
    }

    func matchesThePortableKernel(path: KernelPath, stride: Int, shape: [Int]) throws {
        let (batch, channels, h, w, k) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var g = SeededGenerator(seed: UInt64(shape.reduce(stride, +)))
        let x = Tensor.uniform(shape: [batch, channels, h, w], low: -1, high: 1, using: &g)
        let weight = Tensor.uniform(shape: [channels, 1, k, k], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [channels], low: -1, high: 1, using: &g)
        let direct = try #require(DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride, path: path))
        let want = depthwiseConv2d(x, weight: weight, bias: bias, stride: stride)
        let got = direct(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-4 * Float(k * k), "\(path) stride \(stride), \(shape): \(got.maxAbsDifference(want))")
    }

    @Test func onlyTheKindsItRuns() {
        #expect(DirectDepthwiseConvolution(weight: Tensor(zeros: [4, 1, 3, 3]), bias: Tensor(zeros: [4]), stride: 1, path: .portable) == nil)
        var g = SeededGenerator(seed: 1)
        let bias = Tensor(zeros: [4])
        #expect(DirectDepthwiseConvolution(weight: .uniform(shape: [4, 1, 3, 3], using: &g), bias: bias, stride: 3) == nil)
        #expect(DirectDepthwiseConvolution(weight: .uniform(shape: [4, 1, 17, 17], using: &g), bias: bias, stride: 1) == nil)
    }
}

/// Activations fused into the direct kernels: the same bits as the kernel followed by `relu` or
/// `hardSwish`, and fused by the deployed graph only where the activation alone reads the value;
/// on every vector path the CPU executes.
@Suite(.enabled(if: !vectorPaths.isEmpty, "\(noVectorPath): nothing is fused"))
struct FusedActivationTests {
    @Test(arguments: vectorPaths, [FusedActivation.relu, .hardSwish])
    func aFusedActivationEqualsTheActivationAfterTheKernel(path: KernelPath, activation: FusedActivation) throws {
        var g = SeededGenerator(seed: 5)
        // Values around the h-swish corners at −3 and 3.
        let x = Tensor.uniform(shape: [2, 6, 13, 11], low: -4, high: 4, using: &g)
        let apply: (Tensor) -> Tensor = activation == .relu ? { relu($0) } : { hardSwish($0) }
        for (kernel, stride) in [(1, 1), (3, 1), (3, 2)] {
            var direct = try #require(DirectConvolution(weight: .uniform(shape: [9, 6, kernel, kernel], low: -1, high: 1, using: &g),
                                                        bias: .uniform(shape: [9], low: -1, high: 1, using: &g), stride: stride, padding: kernel / 2, path: path))
            let plain = direct(x)
            direct.activation = activation
            #expect(direct(x).scalars == apply(plain).scalars, "\(path) \(kernel)×\(kernel) stride \(stride)")
        }
        for (kernel, stride) in [(3, 1), (7, 2), (9, 1)] {
            var depthwise = try #require(DirectDepthwiseConvolution(weight: .uniform(shape: [6, 1, kernel, kernel], low: -1, high: 1, using: &g),
                                                                    bias: .uniform(shape: [6], low: -1, high: 1, using: &g), stride: stride, path: path))
            let plain = depthwise(x)
            depthwise.activation = activation
            #expect(depthwise(x).scalars == apply(plain).scalars, "\(path) depthwise \(kernel)×\(kernel) stride \(stride)")
        }
    }

    /// A ReLU applied to the input as it is read gives the convolution of the ReLU, bit for bit
    /// (widths of one and of more than two vectors: stride 2 splits two vectors at a time; 16 × 16
    /// planes, which a 1×1 convolution reads from a staggered copy).
    @Test(arguments: vectorPaths, [[13, 11], [13, 37], [16, 16]])
    func aReLUOnTheInputEqualsTheConvolutionOfTheReLU(path: KernelPath, plane: [Int]) throws {
        var g = SeededGenerator(seed: 8)
        let x = Tensor.uniform(shape: [2, 5, plane[0], plane[1]], low: -2, high: 2, using: &g)
        for (kernel, stride) in [(1, 1), (3, 1), (3, 2)] {
            var direct = try #require(DirectConvolution(weight: .uniform(shape: [24, 5, kernel, kernel], low: -1, high: 1, using: &g),
                                                        bias: .uniform(shape: [24], low: -1, high: 1, using: &g), stride: stride, padding: kernel / 2, path: path))
            let want = direct(relu(x))
            direct.reluInput = true
            #expect(direct(x).scalars == want.scalars, "\(path) \(kernel)×\(kernel) stride \(stride) \(plane)")
        }
    }

    /// A ReLU of the input that a 3×3 and a 1×1 convolution alone read (fused into both), a ReLU
    /// that a convolution and a sum read (not fused) and one that is the graph's output (not fused).
    @Test(arguments: vectorPaths)
    func theGraphFusesOnlyReLUsThatOnlyConvolutionsRead(path: KernelPath) {
        var g = SeededGenerator(seed: 9)
        let x = Tensor.uniform(shape: [1, 4, 9, 9], low: -2, high: 2, using: &g)
        let w3 = Tensor.uniform(shape: [4, 4, 3, 3], low: -1, high: 1, using: &g), w1 = Tensor.uniform(shape: [4, 4, 1, 1], low: -1, high: 1, using: &g)
        let bias = Tensor.uniform(shape: [4], low: -1, high: 1, using: &g)
        var graph = InferenceGraph(inputShape: x.shape, kernels: path)
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
    @Test(arguments: vectorPaths)
    func theGraphFusesOnlyActivationsThatAloneReadAConvolution(path: KernelPath) {
        var g = SeededGenerator(seed: 6)
        let x = Tensor.uniform(shape: [1, 4, 9, 9], low: -2, high: 2, using: &g)
        let w1 = Tensor.uniform(shape: [4, 4, 3, 3], low: -1, high: 1, using: &g), w2 = Tensor.uniform(shape: [4, 4, 1, 1], low: -1, high: 1, using: &g)
        let wd = Tensor.uniform(shape: [4, 1, 5, 5], low: -1, high: 1, using: &g), bias = Tensor.uniform(shape: [4], low: -1, high: 1, using: &g)
        var graph = InferenceGraph(inputShape: x.shape, kernels: path)
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
/// more than one step of four vectors, with a tail in every accumulator; on every vector path the
/// CPU executes.
@Suite(.enabled(if: !vectorPaths.isEmpty, "\(noVectorPath)"))
struct DirectGlobalAveragePoolTests {
    @Test(arguments: vectorPaths, [[1, 1], [3, 5], [7, 7], [13, 13], [1, 65], [9, 20]])
    func matchesThePortableMeans(path: KernelPath, plane: [Int]) {
        var g = SeededGenerator(seed: UInt64(plane[0] * 100 + plane[1]))
        let x = Tensor.uniform(shape: [2, 5, plane[0], plane[1]], low: -1, high: 3, using: &g)
        let got = directGlobalAveragePool(x, path: path), want = globalAveragePool(x)
        #expect(got.shape == want.shape)
        #expect(got.maxAbsDifference(want) < 1e-5, "\(path) \(plane): \(got.maxAbsDifference(want))")
    }
}

/// The 3×3 average pooling of every vector path against the portable one, bit for bit (the same
/// sums in the same order), on planes narrower than, as wide as and wider than a vector.
@Suite(.enabled(if: !vectorPaths.isEmpty, "\(noVectorPath)"))
struct VectorAveragePoolTests {
    @Test(arguments: vectorPaths, [[1, 1], [2, 7], [5, 8], [9, 16], [4, 17], [3, 33]])
    func equalsThePortablePooling(path: KernelPath, plane: [Int]) {
        var g = SeededGenerator(seed: UInt64(plane[0] * 100 + plane[1]))
        let x = Tensor.uniform(shape: [2, 3, plane[0], plane[1]], low: -1, high: 1, using: &g)
        #expect(differingCells(averagePool3x3(x, path: path), portableAveragePool3x3(x)) == 0, "\(path) \(plane)")
    }
}

/// AVX2 against AVX-512 where the CPU executes both: the convolutions sum in the same order, so
/// they give the same bits.
@Suite(.enabled(if: CPUKernels.best == .avx512, "this CPU does not execute AVX-512: AVX2 is compared with the portable kernels only"))
struct InstructionSetAgreementTests {
    @Test func theConvolutionsGiveTheSameBitsOnBothInstructionSets() throws {
        var g = SeededGenerator(seed: 21)
        let x = Tensor.uniform(shape: [1, 7, 19, 23], low: -2, high: 2, using: &g)
        for (kernel, stride) in [(1, 1), (3, 1), (3, 2)] {
            let weight = Tensor.uniform(shape: [13, 7, kernel, kernel], low: -1, high: 1, using: &g), bias = Tensor.uniform(shape: [13], using: &g)
            var wide = try #require(DirectConvolution(weight: weight, bias: bias, stride: stride, padding: kernel / 2, path: .avx512))
            var narrow = try #require(DirectConvolution(weight: weight, bias: bias, stride: stride, padding: kernel / 2, path: .avx2))
            (wide.reluInput, narrow.reluInput, wide.activation, narrow.activation) = (true, true, .hardSwish, .hardSwish)
            #expect(differingCells(wide(x), narrow(x)) == 0, "\(kernel)×\(kernel) stride \(stride)")
        }
        for (kernel, stride) in [(3, 1), (5, 2), (7, 1), (9, 2)] {
            let weight = Tensor.uniform(shape: [7, 1, kernel, kernel], low: -1, high: 1, using: &g), bias = Tensor.uniform(shape: [7], using: &g)
            let wide = try #require(DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride, path: .avx512))
            let narrow = try #require(DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride, path: .avx2))
            #expect(differingCells(wide(x), narrow(x)) == 0, "depthwise \(kernel)×\(kernel) stride \(stride)")
        }
    }
}

/// A whole deployed NB201/OFA-like graph (every kernel, activations fused) on every path the CPU
/// executes against the portable one, and AVX2 against AVX-512 where both run (they differ only
/// through the global average pooling's order of sums).
struct DeployedGraphPathTests {
    @Test func aDeployedGraphAgreesOnEveryPath() {
        var g = SeededGenerator(seed: 22)
        let w3 = Tensor.uniform(shape: [16, 3, 3, 3], low: -0.5, high: 0.5, using: &g), w1 = Tensor.uniform(shape: [16, 16, 1, 1], low: -0.5, high: 0.5, using: &g)
        let wd = Tensor.uniform(shape: [16, 1, 5, 5], low: -0.5, high: 0.5, using: &g), wl = Tensor.uniform(shape: [10, 16], low: -0.5, high: 0.5, using: &g)
        let bias = Tensor.uniform(shape: [16], using: &g), x = Tensor.uniform(shape: [1, 3, 32, 32], low: -1, high: 1, using: &g)
        var outputs: [KernelPath: Tensor] = [:]
        for path in CPUKernels.runnable {
            var graph = InferenceGraph(inputShape: x.shape, kernels: path)
            let a = graph.add(.relu, [graph.add(.convolution(weight: w3, bias: bias, stride: 1, padding: 1), [0])])
            let b = graph.add(.sum, [graph.add(.convolution(weight: w1, bias: bias, stride: 1, padding: 0), [a]), graph.add(.averagePool3x3, [a])])
            let c = graph.add(.hardSwish, [graph.add(.depthwiseConvolution(weight: wd, bias: bias, stride: 2), [b])])
            graph.finish(output: graph.add(.linear(weight: wl, bias: Tensor(zeros: [10])), [graph.add(.globalAveragePool, [c])]))
            outputs[path] = graph.run(x)
        }
        let portable = outputs[.portable]!
        for path in vectorPaths {
            #expect(outputs[path]!.maxAbsDifference(portable) < 1e-4, "\(path) against portable: \(outputs[path]!.maxAbsDifference(portable))")
        }
        if let wide = outputs[.avx512], let narrow = outputs[.avx2] {
            #expect(wide.maxAbsDifference(narrow) < 1e-5, "AVX-512 against AVX2: \(wide.maxAbsDifference(narrow))")
        }
    }
}

/// `MODNAS_KERNELS`: a path the CPU executes is taken, anything else refused with what to do.
struct KernelPathRequestTests {
    @Test func thePathsTheCPUExecutesAreTakenAndOthersRefused() throws {
        #expect(try CPUKernels.requested(environment: [:]) == nil)
        #expect(try CPUKernels.requested(environment: ["MODNAS_KERNELS": ""]) == nil)
        for path in KernelPath.allCases {
            let environment = ["MODNAS_KERNELS": path.description]
            if path <= CPUKernels.best { #expect(try CPUKernels.requested(environment: environment) == path) }
            else { #expect(throws: KernelPathError.self) { try CPUKernels.requested(environment: environment) } }
        }
        #expect(throws: KernelPathError.self) { try CPUKernels.requested(environment: ["MODNAS_KERNELS": "AVX2"]) }
        #expect(throws: KernelPathError.self) { try CPUKernels.requested(environment: ["MODNAS_KERNELS": "sse"]) }
    }
}
