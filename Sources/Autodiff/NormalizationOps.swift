// Batch normalisation over the N, H, W axes of an NCHW tensor.

/// Per-channel running mean and variance kept by a batch-norm layer for inference.
public struct RunningStatistics: Equatable, Sendable {
    public var mean: [Float]
    public var variance: [Float]
    /// Weight of the newest batch in the running averages (PyTorch's `momentum`).
    public var momentum: Float

    public init(channels: Int, momentum: Float = 0.1) {
        mean = [Float](repeating: 0, count: channels)
        variance = [Float](repeating: 1, count: channels)
        self.momentum = momentum
    }
}

/// Channel count and elements per channel (N·H·W) of an NCHW or NC tensor.
private func channelLayout(_ shape: [Int]) -> (channels: Int, batch: Int, plane: Int) {
    precondition(shape.count >= 2, "batchNorm: needs at least [N, C], got \(shape)")
    return (shape[1], shape[0], shape.dropFirst(2).reduce(1, *))
}

/// Calls `body(channel, offset)` for every contiguous run of one channel (length `plane`).
@inline(__always)
private func forEachChannelRun(_ shape: [Int], _ body: (Int, Int) -> Void) {
    let (c, n, plane) = channelLayout(shape)
    for b in 0..<n { for ch in 0..<c { body(ch, (b * c + ch) * plane) } }
}

/// Batch normalisation with running statistics (inference): `(x − mean)/√(var + ε)·γ + β`.
public func batchNorm(_ x: Tensor, statistics: RunningStatistics, scale: Tensor?, shift: Tensor?,
                      epsilon: Float = 1e-5) -> Tensor {
    let (factor, offset) = inferenceAffine(statistics: statistics, scale: scale, shift: shift, epsilon: epsilon)
    let plane = channelLayout(x.shape).plane
    return Tensor(shape: x.shape) { out in
        x.scalars.withUnsafeBufferPointer { p in
            forEachChannelRun(x.shape) { ch, base in
                let (a, b) = (factor[ch], offset[ch])
                for i in base..<(base + plane) { out[i] = p[i] * a + b }
            }
        }
    }
}

/// The per-channel factor and offset that inference batch norm applies: y = factor·x + offset.
public func inferenceAffine(statistics s: RunningStatistics, scale: Tensor?, shift: Tensor?,
                            epsilon: Float = 1e-5) -> (factor: [Float], offset: [Float]) {
    let c = s.mean.count
    var factor = [Float](repeating: 0, count: c), offset = [Float](repeating: 0, count: c)
    for ch in 0..<c {
        let a = (scale?.scalars[ch] ?? 1) / (s.variance[ch] + epsilon).squareRoot()
        factor[ch] = a
        offset[ch] = (shift?.scalars[ch] ?? 0) - s.mean[ch] * a
    }
    return (factor, offset)
}

/// Taped batch normalisation. In training it normalises with the batch's own statistics and
/// updates `statistics` (unbiased variance, as PyTorch); otherwise it uses `statistics`.
public func batchNorm(_ x: Variable, statistics: inout RunningStatistics, scale: Variable?, shift: Variable?,
                      training: Bool, epsilon: Float = 1e-5) -> Variable {
    var parents = [x]
    if let scale { parents.append(scale) }
    if let shift { parents.append(shift) }
    let (channels, _, plane) = channelLayout(x.shape)
    if !training {
        let stats = statistics
        let (factor, _) = inferenceAffine(statistics: stats, scale: scale?.value, shift: shift?.value, epsilon: epsilon)
        let xv = x.value
        let y = batchNorm(xv, statistics: stats, scale: scale?.value, shift: shift?.value, epsilon: epsilon)
        return .result(y, parents: parents) { dy in
            var dx = dy
            var dScale = [Float](repeating: 0, count: channels), dShift = dScale
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                forEachChannelRun(xv.shape) { ch, base in
                    let inv = 1 / (stats.variance[ch] + epsilon).squareRoot()
                    for i in base..<(base + plane) {
                        dScale[ch] += pdx[i] * (xv.scalars[i] - stats.mean[ch]) * inv
                        dShift[ch] += pdx[i]
                        pdx[i] *= factor[ch]
                    }
                }
            }
            return gradients(dx, dScale, dShift, scale != nil, shift != nil)
        }
    }
    let count = Float(x.value.count / channels)
    var mean = [Double](repeating: 0, count: channels), sq = mean
    x.value.scalars.withUnsafeBufferPointer { p in
        forEachChannelRun(x.shape) { ch, base in
            for i in base..<(base + plane) { mean[ch] += Double(p[i]) }
        }
        for ch in 0..<channels { mean[ch] /= Double(count) }
        forEachChannelRun(x.shape) { ch, base in
            for i in base..<(base + plane) { let d = Double(p[i]) - mean[ch]; sq[ch] += d * d }
        }
    }
    let variance = sq.map { Float($0 / Double(count)) }
    let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
    let m = statistics.momentum
    for ch in 0..<channels {
        let unbiased = count > 1 ? variance[ch] * count / (count - 1) : variance[ch]
        statistics.mean[ch] = (1 - m) * statistics.mean[ch] + m * Float(mean[ch])
        statistics.variance[ch] = (1 - m) * statistics.variance[ch] + m * unbiased
    }
    var normalized = x.value
    normalized.scalars.withUnsafeMutableBufferPointer { p in
        forEachChannelRun(x.shape) { ch, base in
            let (mu, inv) = (Float(mean[ch]), invStd[ch])
            for i in base..<(base + plane) { p[i] = (p[i] - mu) * inv }
        }
    }
    var y = normalized
    let gamma = scale?.value.scalars, beta = shift?.value.scalars
    if gamma != nil || beta != nil {
        y.scalars.withUnsafeMutableBufferPointer { p in
            forEachChannelRun(x.shape) { ch, base in
                let (a, b) = (gamma?[ch] ?? 1, beta?[ch] ?? 0)
                for i in base..<(base + plane) { p[i] = p[i] * a + b }
            }
        }
    }
    let xhat = normalized
    return .result(y, parents: parents) { dy in
        // dx = invStd/m · (m·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), with dx̂ = dy·γ.
        var sumDy = [Float](repeating: 0, count: channels), sumDyXhat = sumDy
        dy.scalars.withUnsafeBufferPointer { pdy in
            xhat.scalars.withUnsafeBufferPointer { px in
                forEachChannelRun(xhat.shape) { ch, base in
                    for i in base..<(base + plane) { sumDy[ch] += pdy[i]; sumDyXhat[ch] += pdy[i] * px[i] }
                }
            }
        }
        var dx = dy
        dx.scalars.withUnsafeMutableBufferPointer { pdx in
            xhat.scalars.withUnsafeBufferPointer { px in
                forEachChannelRun(xhat.shape) { ch, base in
                    let a = (gamma?[ch] ?? 1) * invStd[ch]
                    let (mDy, mDyX) = (sumDy[ch] / count, sumDyXhat[ch] / count)
                    for i in base..<(base + plane) { pdx[i] = a * (pdx[i] - mDy - px[i] * mDyX) }
                }
            }
        }
        return gradients(dx, sumDyXhat, sumDy, scale != nil, shift != nil)
    }
}

/// The parent gradients of batch norm in parent order (x, then scale and shift when present).
private func gradients(_ dx: Tensor, _ dScale: [Float], _ dShift: [Float],
                       _ hasScale: Bool, _ hasShift: Bool) -> [Tensor?] {
    var g: [Tensor?] = [dx]
    if hasScale { g.append(Tensor(shape: [dScale.count], scalars: dScale)) }
    if hasShift { g.append(Tensor(shape: [dShift.count], scalars: dShift)) }
    return g
}
