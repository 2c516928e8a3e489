import CKernels

/// Which of CKernels' kernels this CPU runs; the portable Swift kernels serve the rest.
public enum CPUKernels {
    /// AVX-512F: the direct 3×3 convolution and the 3×3 average pooling.
    public static let avx512 = modnas_avx512_supported() == 1
}

/// A 3×3 convolution, stride 1 or 2, padding 1, run by CKernels' direct AVX-512 kernel, its weights
/// packed once: what the deployed graph runs for such convolutions where the CPU has AVX-512.
/// Elsewhere `conv2d` (im2col and sgemm) runs them.
public struct DirectConvolution3x3: Sendable {
    /// Whether this CPU runs the kernel.
    public static var isSupported: Bool { CPUKernels.avx512 }

    public let inChannels: Int, outChannels: Int, stride: Int
    private let packed: [Float]
    private let bias: [Float]

    /// nil unless the CPU runs the kernel and the convolution is 3×3, stride 1 or 2, padding 1.
    public init?(weight: Tensor, bias: Tensor, stride: Int, padding: Int) {
        guard Self.isSupported, weight.shape.count == 4, weight.shape[2] == 3, weight.shape[3] == 3, stride == 1 || stride == 2, padding == 1 else { return nil }
        (outChannels, inChannels, self.stride) = (weight.shape[0], weight.shape[1], stride)
        precondition(bias.count == outChannels, "DirectConvolution3x3: bias of \(bias.count) for \(outChannels) channels")
        let count = Int(modnas_direct_convolution_packed_count(Int32(outChannels), Int32(inChannels)))
        packed = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            weight.scalars.withUnsafeBufferPointer { modnas_direct_convolution_pack($0.baseAddress!, Int32(weight.shape[0]), Int32(weight.shape[1]), buffer.baseAddress!) }
            initialized = count
        }
        self.bias = bias.scalars
    }

    /// The convolution of NCHW `x` (the same output as `conv2d(x, weight:bias:stride:padding: 1)`
    /// up to the order of the sums).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "DirectConvolution3x3: input \(x.shape), expected \(inChannels) channels")
        let (batch, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        let scratchCount = modnas_direct_convolution_scratch_count(Int32(outChannels), Int32(inChannels), Int32(h), Int32(w), Int32(stride))
        var scratch = [Float](unsafeUninitializedCapacity: Int(scratchCount)) { $1 = $0.count }
        // The kernel writes every output scalar.
        var y = Tensor(shape: [batch, outChannels, oh, ow]) { _ in }
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                scratch.withUnsafeMutableBufferPointer { ps in
                    for n in 0..<batch {
                        modnas_direct_convolution(px.baseAddress! + n * inChannels * h * w, Int32(inChannels), Int32(h), Int32(w), Int32(stride),
                                                  packed, bias, Int32(outChannels), py.baseAddress! + n * outChannels * oh * ow, ps.baseAddress!)
                    }
                }
            }
        }
        return y
    }
}
