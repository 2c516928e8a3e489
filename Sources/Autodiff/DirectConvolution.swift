import CKernels

/// Which of CKernels' kernels this CPU runs; the portable Swift kernels serve the rest.
public enum CPUKernels {
    /// AVX-512F: the direct convolutions and the 3×3 average pooling.
    public static let avx512 = modnas_avx512_supported() == 1
}

/// A 3×3 convolution (stride 1 or 2, padding 1) or a 1×1 one (stride 1, no padding) run by
/// CKernels' direct AVX-512 kernel, its weights packed once: what the deployed graph runs for such
/// convolutions where the CPU has AVX-512. Elsewhere `conv2d` (im2col and sgemm) runs them.
public struct DirectConvolution: Sendable {
    /// Whether this CPU runs the kernel.
    public static var isSupported: Bool { CPUKernels.avx512 }

    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int
    private let packed: [Float]
    private let bias: [Float]

    /// nil unless the CPU runs the kernel and the convolution is one of the two kinds it runs.
    public init?(weight: Tensor, bias: Tensor, stride: Int, padding: Int) {
        guard Self.isSupported, weight.shape.count == 4, weight.shape[2] == weight.shape[3] else { return nil }
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

    /// The convolution of NCHW `x` (the same output as `conv2d(x, weight:bias:stride:padding:)` up
    /// to the order of the sums).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "DirectConvolution: input \(x.shape), expected \(inChannels) channels")
        let (batch, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        let scratchCount = modnas_direct_convolution_scratch_count(Int32(outChannels), Int32(inChannels), Int32(h), Int32(w), Int32(kernel), Int32(stride))
        var scratch = [Float](unsafeUninitializedCapacity: Int(scratchCount)) { $1 = $0.count }
        // The kernel writes every output scalar.
        var y = Tensor(shape: [batch, outChannels, oh, ow]) { _ in }
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                scratch.withUnsafeMutableBufferPointer { ps in
                    for n in 0..<batch {
                        modnas_direct_convolution(px.baseAddress! + n * inChannels * h * w, Int32(inChannels), Int32(h), Int32(w), Int32(kernel), Int32(stride),
                                                  packed, bias, Int32(outChannels), py.baseAddress! + n * outChannels * oh * ow, ps.baseAddress)
                    }
                }
            }
        }
        return y
    }
}
