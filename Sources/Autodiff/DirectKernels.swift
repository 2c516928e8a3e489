import CKernels

/// Which of CKernels' kernels this CPU runs; the portable Swift kernels serve the rest.
public enum CPUKernels {
    /// AVX-512F: the direct convolutions, the 3×3 average pooling and the global one.
    public static let avx512 = modnas_avx512_supported() == 1

    /// Which kernels the deployed graph runs on this CPU, in words (recorded with profiles).
    public static var description: String {
        avx512 ? "direct AVX-512 kernels for 3×3, 1×1 and depthwise convolutions (with the ReLU or h-swish that follows, "
                 + "and a ReLU that only convolutions read, fused) "
                 + "and 3×3 and global average pooling, OpenBLAS sgemm for the other convolutions"
               : "portable kernels: convolutions by im2col and OpenBLAS sgemm (no AVX-512)"
    }
}

/// An activation that a direct kernel applies to its results before it stores them: the deployed
/// graph fuses a ReLU or h-swish that alone follows a convolution into it. The kernels compute it
/// with the same operations as `relu` and `hardSwish`, so the results are the same.
public enum FusedActivation: Sendable {
    case none, relu, hardSwish

    /// The activation an operation is, if a kernel can apply it.
    init?(_ operation: InferenceGraph.Operation) {
        switch operation {
        case .relu: self = .relu
        case .hardSwish: self = .hardSwish
        default: return nil
        }
    }

    var code: modnas_activation {
        switch self {
        case .none: MODNAS_ACTIVATION_NONE
        case .relu: MODNAS_ACTIVATION_RELU
        case .hardSwish: MODNAS_ACTIVATION_HARD_SWISH
        }
    }
}

/// Runs a CKernels kernel on each image of NCHW `x` (image, its output, `scratch` floats of scratch)
/// into a new [batch, outChannels, ⌈h / stride⌉, ⌈w / stride⌉] tensor, which the kernel fills.
private func eachImage(of x: Tensor, outChannels: Int, stride: Int, scratch count: Int,
                       _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Void) -> Tensor {
    let (batch, inChannels, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
    var scratch = [Float](unsafeUninitializedCapacity: count) { $1 = $0.count }
    var y = Tensor(shape: [batch, outChannels, oh, ow]) { _ in }
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            scratch.withUnsafeMutableBufferPointer { ps in
                for n in 0..<batch { kernel(px.baseAddress! + n * inChannels * h * w, py.baseAddress! + n * outChannels * oh * ow, ps.baseAddress) }
            }
        }
    }
    return y
}

/// A 3×3 convolution (stride 1 or 2, padding 1) or a 1×1 one (stride 1, no padding) run by
/// CKernels' direct AVX-512 kernel, its weights packed once: what the deployed graph runs for such
/// convolutions where the CPU has AVX-512. Elsewhere `conv2d` (im2col and sgemm) runs them.
public struct DirectConvolution: Sendable {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int
    /// Applied to the results (`.none` as built).
    public internal(set) var activation = FusedActivation.none
    /// max(x, 0) applied to the input as it is read (false as built): a ReLU that only
    /// convolutions read, fused into them.
    public internal(set) var reluInput = false
    private let packed: [Float]
    private let bias: [Float]

    /// nil unless the CPU runs the kernel and the convolution is one of the two kinds it runs.
    public init?(weight: Tensor, bias: Tensor, stride: Int, padding: Int) {
        guard CPUKernels.avx512, weight.shape.count == 4, weight.shape[2] == weight.shape[3] else { return nil }
        let kernel = weight.shape[2]
        guard (kernel == 3 && padding == 1 && (stride == 1 || stride == 2)) || (kernel == 1 && padding == 0 && stride == 1) else { return nil }
        (outChannels, inChannels, self.kernel, self.stride) = (weight.shape[0], weight.shape[1], kernel, stride)
        precondition(bias.count == outChannels, "DirectConvolution: bias of \(bias.count) for \(outChannels) channels")
        let count = Int(modnas_direct_convolution_packed_count(Int32(outChannels), Int32(inChannels), Int32(kernel)))
        packed = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            weight.scalars.withUnsafeBufferPointer {
                modnas_direct_convolution_pack($0.baseAddress!, Int32(weight.shape[0]), Int32(weight.shape[1]), Int32(kernel), buffer.baseAddress!)
            }
            initialized = count
        }
        self.bias = bias.scalars
    }

    /// The convolution of NCHW `x` (of relu(x) with `reluInput`), then `activation` (the same
    /// output as `conv2d(x, weight:bias:stride:padding:)` up to the order of the sums).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "DirectConvolution: input \(x.shape), expected \(inChannels) channels")
        let (h, w) = (Int32(x.shape[2]), Int32(x.shape[3]))
        let scratch = modnas_direct_convolution_scratch_count(Int32(outChannels), Int32(inChannels), h, w, Int32(kernel), Int32(stride))
        return eachImage(of: x, outChannels: outChannels, stride: stride, scratch: Int(scratch)) { image, out, scratch in
            modnas_direct_convolution(image, Int32(inChannels), h, w, Int32(kernel), Int32(stride), packed, bias, Int32(outChannels),
                                      reluInput ? 1 : 0, activation.code, out, scratch)
        }
    }
}

/// A depthwise convolution (odd k ≤ 15, "same" padding, stride 1 or 2) run by CKernels' direct
/// AVX-512 kernel: what the deployed graph runs where the CPU has AVX-512. Elsewhere
/// `depthwiseConv2d` runs it.
public struct DirectDepthwiseConvolution: Sendable {
    public let channels: Int, kernel: Int, stride: Int
    /// Applied to the results (`.none` as built).
    public internal(set) var activation = FusedActivation.none
    private let weight: [Float]
    private let bias: [Float]

    /// nil unless the CPU runs the kernel and it runs this convolution.
    public init?(weight: Tensor, bias: Tensor, stride: Int) {
        guard CPUKernels.avx512, weight.shape.count == 4, weight.shape[1] == 1, weight.shape[2] == weight.shape[3],
              weight.shape[2] % 2 == 1, weight.shape[2] <= 15, stride == 1 || stride == 2 else { return nil }
        (channels, kernel, self.stride) = (weight.shape[0], weight.shape[2], stride)
        precondition(bias.count == channels, "DirectDepthwiseConvolution: bias of \(bias.count) for \(channels) channels")
        (self.weight, self.bias) = (weight.scalars, bias.scalars)
    }

    /// The convolution of NCHW `x`, then `activation` (the same output as
    /// `depthwiseConv2d(x, weight:bias:stride:)` up to the order of the sums).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == channels, "DirectDepthwiseConvolution: input \(x.shape), expected \(channels) channels")
        let (h, w) = (Int32(x.shape[2]), Int32(x.shape[3]))
        let scratch = modnas_depthwise_convolution_scratch_count(h, w, Int32(kernel), Int32(stride))
        return eachImage(of: x, outChannels: channels, stride: stride, scratch: Int(scratch)) { image, out, scratch in
            modnas_depthwise_convolution(image, Int32(channels), h, w, Int32(kernel), Int32(stride), weight, bias, activation.code, out, scratch)
        }
    }
}

/// Global average pooling (NCHW → [N, C]) by CKernels' AVX-512 kernel, what the deployed graph
/// runs where the CPU has AVX-512: the same means as `globalAveragePool` up to the order of the sums.
func directGlobalAveragePool(_ x: Tensor) -> Tensor {
    precondition(x.shape.count == 4, "directGlobalAveragePool: input \(x.shape), expected NCHW")
    let (planes, positions) = (x.shape[0] * x.shape[1], x.shape[2] * x.shape[3])
    var y = Tensor(shape: [x.shape[0], x.shape[1]]) { _ in }
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { modnas_global_average_pool(px.baseAddress!, planes, positions, $0.baseAddress!) }
    }
    return y
}

/// The AVX-512 kernel the deployed graph runs for an operation, prepared once (weights packed).
enum DirectKernel: Sendable {
    case convolution(DirectConvolution)
    case depthwise(DirectDepthwiseConvolution)

    /// nil where the CPU or the operation has no direct kernel.
    init?(_ operation: InferenceGraph.Operation) {
        switch operation {
        case .convolution(let weight, let bias, let stride, let padding):
            guard let kernel = DirectConvolution(weight: weight, bias: bias, stride: stride, padding: padding) else { return nil }
            self = .convolution(kernel)
        case .depthwiseConvolution(let weight, let bias, let stride):
            guard let kernel = DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride) else { return nil }
            self = .depthwise(kernel)
        default: return nil
        }
    }

    /// The same kernel with `activation` applied to its results.
    func followed(by activation: FusedActivation) -> DirectKernel {
        switch self {
        case .convolution(var kernel): kernel.activation = activation; return .convolution(kernel)
        case .depthwise(var kernel): kernel.activation = activation; return .depthwise(kernel)
        }
    }

    /// The same convolution applying a ReLU to its input; nil for a kernel that cannot.
    func readingThroughReLU() -> DirectKernel? {
        guard case .convolution(var kernel) = self else { return nil }
        kernel.reluInput = true
        return .convolution(kernel)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .convolution(let kernel): kernel(x)
        case .depthwise(let kernel): kernel(x)
        }
    }
}
