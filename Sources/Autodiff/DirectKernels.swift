import CKernels
import Foundation

/// The instruction set the engine's own vectorised kernels (CKernels: the direct 3×3, 1×1 and
/// depthwise convolutions with their fused activations, the 3×3 and global average poolings) run
/// with, lowest first; `portable` runs none of them (im2col and sgemm, the Swift kernels).
public enum KernelPath: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    case portable, avx2, avx512

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rawValue < b.rawValue }

    /// The name `MODNAS_KERNELS` takes and profiles record.
    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    /// CKernels' instruction set; nil for the portable path.
    var isa: modnas_isa? {
        switch self {
        case .portable: nil
        case .avx2: MODNAS_ISA_AVX2
        case .avx512: MODNAS_ISA_AVX512
        }
    }
}

/// Which of CKernels' kernels this process runs: the best path the CPU executes, or a lower one
/// that the environment variable `MODNAS_KERNELS` asks for (tests and benchmarks of a lower path).
public enum CPUKernels {
    public static let environmentVariable = "MODNAS_KERNELS"

    /// The best path this CPU executes: AVX-512F, else AVX2 with FMA, else portable.
    public static let best: KernelPath =
        modnas_avx512_supported() == 1 ? .avx512 : modnas_avx2_fma_supported() == 1 ? .avx2 : .portable

    /// Every path this CPU executes, lowest first.
    public static var runnable: [KernelPath] { KernelPath.allCases.filter { $0 <= best } }

    /// The path `MODNAS_KERNELS` asks for (nil when unset or empty), or an error that says what to do
    /// when it names no path or one this CPU cannot execute. The tools check it before any work.
    public static func requested(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelPath? {
        guard let value = environment[environmentVariable], !value.isEmpty else { return nil }
        guard let path = KernelPath.allCases.first(where: { $0.description == value }) else {
            throw KernelPathError("\(environmentVariable)=\(value) names no kernel path: use one of \(KernelPath.allCases.map(\.description).joined(separator: ", ")), or unset it")
        }
        guard path <= best else {
            throw KernelPathError("\(environmentVariable)=\(value): this CPU does not execute \(value) instructions (its best path is \(best)); choose a lower path or unset it")
        }
        return path
    }

    /// The path the deployed graph and the 3×3 average pooling run: `MODNAS_KERNELS` where it is
    /// valid, else `best`.
    public static let path: KernelPath = ((try? requested()) ?? nil) ?? best

    /// Which kernels the deployed graph runs on `path`, in words (recorded with profiles).
    public static func description(of path: KernelPath = path) -> String {
        let forced = path < best ? " (\(environmentVariable); the CPU runs \(best))" : ""
        switch path {
        case .portable:
            return "portable: convolutions by im2col and OpenBLAS sgemm, Swift poolings\(forced)"
        case .avx2, .avx512:
            let isa = path == .avx512 ? "AVX-512" : "AVX2+FMA"
            return "\(path): direct \(isa) kernels for 3×3, 1×1 and depthwise convolutions (with the ReLU or h-swish that follows, "
                + "and a ReLU that only convolutions read, fused) and 3×3 and global average pooling, OpenBLAS sgemm for the other convolutions\(forced)"
        }
    }
}

/// A `MODNAS_KERNELS` value the tools refuse.
public struct KernelPathError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
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
/// CKernels' direct kernel, its weights packed once: what the deployed graph runs for such
/// convolutions on the AVX-512 and AVX2 paths. On the portable path `conv2d` (im2col and sgemm) runs them.
public struct DirectConvolution: Sendable {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int
    public let path: KernelPath
    /// Applied to the results (`.none` as built).
    public internal(set) var activation = FusedActivation.none
    /// max(x, 0) applied to the input as it is read (false as built): a ReLU that only
    /// convolutions read, fused into them.
    public internal(set) var reluInput = false
    private let packed: [Float]
    private let bias: [Float]

    /// nil on the portable path and unless the convolution is one of the two kinds the kernel runs.
    /// `path` must be one the CPU executes (`CPUKernels.runnable`).
    public init?(weight: Tensor, bias: Tensor, stride: Int, padding: Int, path: KernelPath = CPUKernels.path) {
        precondition(path <= CPUKernels.best, "DirectConvolution: path \(path) on a CPU whose best is \(CPUKernels.best)")
        guard path != .portable, weight.shape.count == 4, weight.shape[2] == weight.shape[3] else { return nil }
        let kernel = weight.shape[2]
        guard (kernel == 3 && padding == 1 && (stride == 1 || stride == 2)) || (kernel == 1 && padding == 0 && stride == 1) else { return nil }
        (outChannels, inChannels, self.kernel, self.stride, self.path) = (weight.shape[0], weight.shape[1], kernel, stride, path)
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
            modnas_direct_convolution(path.isa!, image, Int32(inChannels), h, w, Int32(kernel), Int32(stride), packed, bias, Int32(outChannels),
                                      reluInput ? 1 : 0, activation.code, out, scratch)
        }
    }
}

/// A depthwise convolution (odd k ≤ 15, "same" padding, stride 1 or 2) run by CKernels' direct
/// kernel: what the deployed graph runs on the AVX-512 and AVX2 paths. On the portable path
/// `depthwiseConv2d` runs it.
public struct DirectDepthwiseConvolution: Sendable {
    public let channels: Int, kernel: Int, stride: Int
    public let path: KernelPath
    /// Applied to the results (`.none` as built).
    public internal(set) var activation = FusedActivation.none
    private let weight: [Float]
    private let bias: [Float]

    /// nil on the portable path and unless the kernel runs this convolution. `path` must be one
    /// the CPU executes (`CPUKernels.runnable`).
    public init?(weight: Tensor, bias: Tensor, stride: Int, path: KernelPath = CPUKernels.path) {
        precondition(path <= CPUKernels.best, "DirectDepthwiseConvolution: path \(path) on a CPU whose best is \(CPUKernels.best)")
        guard path != .portable, weight.shape.count == 4, weight.shape[1] == 1, weight.shape[2] == weight.shape[3],
              weight.shape[2] % 2 == 1, weight.shape[2] <= 15, stride == 1 || stride == 2 else { return nil }
        (channels, kernel, self.stride, self.path) = (weight.shape[0], weight.shape[2], stride, path)
        precondition(bias.count == channels, "DirectDepthwiseConvolution: bias of \(bias.count) for \(channels) channels")
        (self.weight, self.bias) = (weight.scalars, bias.scalars)
    }

    /// The convolution of NCHW `x`, then `activation` (the same output as
    /// `depthwiseConv2d(x, weight:bias:stride:)` up to the order of the sums).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == channels, "DirectDepthwiseConvolution: input \(x.shape), expected \(channels) channels")
        let (h, w) = (Int32(x.shape[2]), Int32(x.shape[3]))
        let scratch = modnas_depthwise_convolution_scratch_count(path.isa!, h, w, Int32(kernel), Int32(stride))
        return eachImage(of: x, outChannels: channels, stride: stride, scratch: Int(scratch)) { image, out, scratch in
            modnas_depthwise_convolution(path.isa!, image, Int32(channels), h, w, Int32(kernel), Int32(stride), weight, bias, activation.code, out, scratch)
        }
    }
}

/// Global average pooling (NCHW → [N, C]) by CKernels' kernel for `path` (`globalAveragePool` on the
/// portable path), what the deployed graph runs: the same means up to the order of the sums.
func directGlobalAveragePool(_ x: Tensor, path: KernelPath) -> Tensor {
    precondition(x.shape.count == 4, "directGlobalAveragePool: input \(x.shape), expected NCHW")
    guard let isa = path.isa else { return globalAveragePool(x) }
    let (planes, positions) = (x.shape[0] * x.shape[1], x.shape[2] * x.shape[3])
    var y = Tensor(shape: [x.shape[0], x.shape[1]]) { _ in }
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { modnas_global_average_pool(isa, px.baseAddress!, planes, positions, $0.baseAddress!) }
    }
    return y
}

/// The direct kernel the deployed graph runs for an operation, prepared once (weights packed).
enum DirectKernel: Sendable {
    case convolution(DirectConvolution)
    case depthwise(DirectDepthwiseConvolution)

    /// nil on the portable path or where the operation has no direct kernel.
    init?(_ operation: InferenceGraph.Operation, path: KernelPath) {
        switch operation {
        case .convolution(let weight, let bias, let stride, let padding):
            guard let kernel = DirectConvolution(weight: weight, bias: bias, stride: stride, padding: padding, path: path) else { return nil }
            self = .convolution(kernel)
        case .depthwiseConvolution(let weight, let bias, let stride):
            guard let kernel = DirectDepthwiseConvolution(weight: weight, bias: bias, stride: stride, path: path) else { return nil }
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
