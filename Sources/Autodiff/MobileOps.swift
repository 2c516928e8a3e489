// The ops of MobileNetV3 blocks: depthwise convolution (a direct kernel, not im2col + sgemm),
// h-swish and h-sigmoid (Howard et al., "Searching for MobileNetV3", ICCV 2019, §5.2),
// a per-channel scale (the last step of squeeze-and-excitation) and batch-norm folding.

/// Geometry of a depthwise convolution with "same" padding (kernel / 2).
struct DepthwiseGeometry {
    let batch, channels, height, width, kernel, stride, padding: Int
    var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

    init(input: [Int], weight: [Int], stride: Int) {
        precondition(input.count == 4, "depthwiseConv2d: needs an NCHW input, got \(input)")
        precondition(weight.count == 4 && weight[0] == input[1] && weight[1] == 1 && weight[2] == weight[3]
                     && weight[2] % 2 == 1,
                     "depthwiseConv2d: weight must be [C, 1, k, k] with odd k for \(input[1]) channels, got \(weight)")
        precondition(stride >= 1, "depthwiseConv2d: stride must be at least 1")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (kernel, self.stride, padding) = (weight[2], stride, weight[2] / 2)
    }

    /// Output columns [lo, hi) whose input column ox·stride − padding + kj lies inside the row.
    @inline(__always)
    func insideColumns(_ kj: Int) -> (Int, Int) {
        let first = padding - kj, last = width - 1 + padding - kj
        if last < 0 { return (0, 0) }
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        return (lo, min(outWidth, last / stride + 1))
    }
}

/// Depthwise 2-D convolution of `x` (NCHW) with `weight` [C, 1, k, k] (odd k), optional `bias`
/// [C], any stride, "same" zero padding k / 2: each channel is convolved with its own kernel.
///
/// A direct kernel: each plane is copied into rows with the horizontal padding made of zeros, so
/// every output column reads without bounds checks; for strides 1 and 2, eight output columns
/// at a time accumulate all k·k taps in one SIMD register (stride 2 takes the even lanes of
/// sixteen loaded inputs). Rows in the vertical padding are skipped.
public func depthwiseConv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1) -> Tensor {
    let g = DepthwiseGeometry(input: x.shape, weight: weight.shape, stride: stride)
    if let bias { precondition(bias.count == g.channels, "depthwiseConv2d: bias of \(bias.count) for \(g.channels) channels") }
    let (oh, ow) = (g.outHeight, g.outWidth)
    // Wide enough for the last chunk's loads: (⌈ow/8⌉·8 − 1)·s + k − 1 + (s − 1) < paddedWidth.
    let paddedWidth = (ow + 7) / 8 * 8 * g.stride + g.kernel + g.stride
    // Every output scalar is written below.
    var y = Tensor(shape: [g.batch, g.channels, oh, ow]) { _ in }
    var padded = [Float](repeating: 0, count: g.height * paddedWidth)
    x.scalars.withUnsafeBufferPointer { px in
        weight.scalars.withUnsafeBufferPointer { pw in
            y.scalars.withUnsafeMutableBufferPointer { py in
                padded.withUnsafeMutableBufferPointer { scratch in
                    for plane in 0..<(g.batch * g.channels) {
                        let c = plane % g.channels
                        // The padding columns stay zero: only [p, p + width) of each row is written.
                        let input = px.baseAddress! + plane * g.height * g.width
                        for row in 0..<g.height {
                            (scratch.baseAddress! + row * paddedWidth + g.padding).update(from: input + row * g.width, count: g.width)
                        }
                        depthwisePlane(UnsafePointer(scratch.baseAddress!), paddedWidth: paddedWidth,
                                       kernel: pw.baseAddress! + c * g.kernel * g.kernel, bias: bias?.scalars[c] ?? 0,
                                       output: py.baseAddress! + plane * oh * ow, g)
                    }
                }
            }
        }
    }
    return y
}

/// One channel's plane of a depthwise convolution from its horizontally padded copy.
@inline(__always)
private func depthwisePlane(_ input: UnsafePointer<Float>, paddedWidth: Int, kernel: UnsafePointer<Float>, bias: Float,
                            output: UnsafeMutablePointer<Float>, _ g: DepthwiseGeometry) {
    let (k, s, p) = (g.kernel, g.stride, g.padding)
    let (oh, ow) = (g.outHeight, g.outWidth)
    var tail = SIMD8<Float>()
    for oy in 0..<oh {
        let top = oy * s - p
        let kiLo = max(0, -top), kiHi = min(k, g.height - top)
        let out = output + oy * ow
        guard s <= 2 else {
            for ox in 0..<ow {
                var acc = bias
                for ki in kiLo..<kiHi {
                    let row = input + (top + ki) * paddedWidth + ox * s
                    for kj in 0..<k { acc += kernel[ki * k + kj] * row[kj] }
                }
                out[ox] = acc
            }
            continue
        }
        for ox in stride(from: 0, to: ow, by: 8) {
            var acc = SIMD8<Float>(repeating: bias)
            for ki in kiLo..<kiHi {
                let row = UnsafeRawPointer(input + (top + ki) * paddedWidth + ox * s)
                let taps = kernel + ki * k
                if s == 1 {
                    for kj in 0..<k {
                        acc += SIMD8(repeating: taps[kj]) * row.loadUnaligned(fromByteOffset: kj * 4, as: SIMD8<Float>.self)
                    }
                } else {
                    for kj in 0..<k {
                        acc += SIMD8(repeating: taps[kj]) * row.loadUnaligned(fromByteOffset: kj * 4, as: SIMD16<Float>.self).evenHalf
                    }
                }
            }
            if ox + 8 <= ow {
                UnsafeMutableRawPointer(out + ox).storeBytes(of: acc, as: SIMD8<Float>.self)
            } else {
                tail = acc
                for i in 0..<(ow - ox) { out[ox + i] = tail[i] }
            }
        }
    }
}

/// Taped depthwise convolution (see the tensor version).
public func depthwiseConv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1) -> Variable {
    let xv = x.value, wv = weight.value
    var parents = [x, weight]
    if let bias { parents.append(bias) }
    return .result(depthwiseConv2d(xv, weight: wv, bias: bias?.value, stride: stride), parents: parents) { dy in
        let g = DepthwiseGeometry(input: xv.shape, weight: wv.shape, stride: stride)
        let (oh, ow, k) = (g.outHeight, g.outWidth, g.kernel)
        var dx = Tensor(zeros: xv.shape), dw = Tensor(zeros: wv.shape)
        var db = [Float](repeating: 0, count: g.channels)
        xv.scalars.withUnsafeBufferPointer { px in
            wv.scalars.withUnsafeBufferPointer { pw in
                dy.scalars.withUnsafeBufferPointer { pdy in
                    dx.scalars.withUnsafeMutableBufferPointer { pdx in
                        dw.scalars.withUnsafeMutableBufferPointer { pdw in
                            for plane in 0..<(g.batch * g.channels) {
                                let c = plane % g.channels
                                let offset = plane * g.height * g.width
                                let gradOut = pdy.baseAddress! + plane * oh * ow
                                for i in 0..<(oh * ow) { db[c] += gradOut[i] }
                                for oy in 0..<oh {
                                    let gy = gradOut + oy * ow
                                    for ki in 0..<k {
                                        let iy = oy * g.stride - g.padding + ki
                                        if iy < 0 || iy >= g.height { continue }
                                        let rowStart = offset + iy * g.width - g.padding
                                        for kj in 0..<k {
                                            let (lo, hi) = g.insideColumns(kj)
                                            let wv = pw[c * k * k + ki * k + kj]
                                            var dot: Float = 0
                                            for ox in lo..<hi {
                                                let i = rowStart + kj + ox * g.stride
                                                dot += gy[ox] * px[i]
                                                pdx[i] += wv * gy[ox]
                                            }
                                            pdw[c * k * k + ki * k + kj] += dot
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var grads: [Tensor?] = [dx, dw]
        if bias != nil { grads.append(Tensor(shape: [g.channels], scalars: db)) }
        return grads
    }
}

/// Multiply–accumulates of a depthwise convolution (for GFLOP/s figures: 2 FLOPs each).
public func depthwiseMultiplyAccumulates(batch: Int, channels: Int, outHeight: Int, outWidth: Int, kernel: Int) -> Int {
    batch * channels * outHeight * outWidth * kernel * kernel
}

/// `value` applied to every element.
@inline(__always)
func elementwise(_ x: Tensor, _ value: (Float) -> Float) -> Tensor {
    Tensor(shape: x.shape) { out in
        x.scalars.withUnsafeBufferPointer { p in
            for i in p.indices { out[i] = value(p[i]) }
        }
    }
}

/// A taped elementwise op: `forward` on the value, ∂y/∂x = `slope` at each input backward.
func elementwise(_ x: Variable, forward: (Tensor) -> Tensor, slope: @escaping (Float) -> Float) -> Variable {
    let xv = x.value
    return .result(forward(xv), parents: [x]) { dy in
        var dx = dy
        for i in 0..<dx.count { dx.scalars[i] *= slope(xv.scalars[i]) }
        return [dx]
    }
}

/// h-sigmoid: ReLU6(x + 3) / 6.
public func hardSigmoid(_ x: Tensor) -> Tensor { elementwise(x) { min(max($0 + 3, 0), 6) / 6 } }

/// Taped h-sigmoid; its slope is 1/6 on (−3, 3) and 0 outside.
public func hardSigmoid(_ x: Variable) -> Variable {
    elementwise(x, forward: hardSigmoid, slope: { $0 > -3 && $0 < 3 ? 1 / 6 : 0 })
}

/// h-swish: x · ReLU6(x + 3) / 6.
public func hardSwish(_ x: Tensor) -> Tensor { elementwise(x) { $0 * min(max($0 + 3, 0), 6) / 6 } }

/// Taped h-swish; its slope is 0 below −3, (2x + 3)/6 on (−3, 3) and 1 above 3.
public func hardSwish(_ x: Variable) -> Variable {
    elementwise(x, forward: hardSwish, slope: { $0 <= -3 ? 0 : ($0 >= 3 ? 1 : (2 * $0 + 3) / 6) })
}

/// x [N, C, H, W] with channel c of image n multiplied by s[n, c] (s is [N, C]).
public func scaleChannels(_ x: Tensor, by s: Tensor) -> Tensor {
    precondition(x.shape.count == 4 && s.shape == [x.shape[0], x.shape[1]],
                 "scaleChannels: needs x [N, C, H, W] and s [N, C], got \(x.shape) and \(s.shape)")
    let plane = x.shape[2] * x.shape[3]
    return Tensor(shape: x.shape) { out in
        x.scalars.withUnsafeBufferPointer { px in
            for p in 0..<s.count {
                let f = s.scalars[p]
                for i in (p * plane)..<((p + 1) * plane) { out[i] = px[i] * f }
            }
        }
    }
}

/// Taped per-channel scale (the excitation step of squeeze-and-excitation).
public func scaleChannels(_ x: Variable, by s: Variable) -> Variable {
    let xv = x.value, sv = s.value
    return .result(scaleChannels(xv, by: sv), parents: [x, s]) { dy in
        let plane = xv.shape[2] * xv.shape[3]
        var ds = [Float](repeating: 0, count: sv.count)
        for p in 0..<sv.count {
            var dot: Float = 0
            for i in (p * plane)..<((p + 1) * plane) { dot += dy.scalars[i] * xv.scalars[i] }
            ds[p] = dot
        }
        return [x.requiresGrad ? scaleChannels(dy, by: sv) : nil, Tensor(shape: sv.shape, scalars: ds)]
    }
}

/// Squeeze-and-excitation: global average pool → 1×1 reduce (with bias) → ReLU → 1×1 expand
/// (with bias) → h-sigmoid → channel scale. The 1×1 convolutions on a 1×1 map are linear
/// layers: `reduce` is [mid, C], `expand` is [C, mid].
public func squeezeExcitation(_ x: Variable, reduce: Variable, reduceBias: Variable,
                              expand: Variable, expandBias: Variable) -> Variable {
    let squeezed = relu(linear(globalAveragePool(x), weight: reduce, bias: reduceBias))
    return scaleChannels(x, by: hardSigmoid(linear(squeezed, weight: expand, bias: expandBias)))
}

/// The weight and bias of a convolution followed by inference batch norm, as one convolution:
/// w'[o] = w[o] · factor[o], b' = b · factor + offset. Works for any weight whose first axis is
/// the output channel (OIHW, and depthwise [C, 1, k, k]).
public func foldBatchNorm(weight: Tensor, bias: Tensor?, statistics: RunningStatistics, scale: Tensor?,
                          shift: Tensor?, epsilon: Float = 1e-5) -> (weight: Tensor, bias: Tensor) {
    let outC = weight.shape[0]
    precondition(statistics.mean.count == outC, "foldBatchNorm: \(statistics.mean.count) statistics for \(outC) channels")
    let (factor, offset) = inferenceAffine(statistics: statistics, scale: scale, shift: shift, epsilon: epsilon)
    let per = weight.count / outC
    var w = weight
    var b = [Float](repeating: 0, count: outC)
    for o in 0..<outC {
        for i in (o * per)..<((o + 1) * per) { w.scalars[i] *= factor[o] }
        b[o] = (bias?.scalars[o] ?? 0) * factor[o] + offset[o]
    }
    return (w, Tensor(shape: [outC], scalars: b))
}
