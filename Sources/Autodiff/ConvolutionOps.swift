// 2-D convolution (NCHW) by im2col and one sgemm over the whole batch.

/// Geometry of a 2-D convolution.
public struct ConvolutionGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var stride, padding: Int

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the im2col matrix: inChannels · kernelHeight · kernelWidth.
    var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    /// Output positions per image.
    var positions: Int { outHeight * outWidth }
    /// A 1×1, stride-1, unpadded convolution reads its input directly as the im2col matrix.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    init(input: [Int], weight: [Int], stride: Int, padding: Int) {
        precondition(input.count == 4 && weight.count == 4, "conv2d: needs NCHW input and OIHW weight")
        precondition(input[1] == weight[1], "conv2d: input has \(input[1]) channels, weight expects \(weight[1])")
        precondition(stride >= 1 && padding >= 0)
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (self.stride, self.padding) = (stride, padding)
        precondition(outHeight >= 1 && outWidth >= 1, "conv2d: kernel larger than padded input")
    }
}

/// The output columns [lo, hi) whose input column ox·stride − padding + kernelColumn lies in [0, width).
@inline(__always)
private func insideColumns(kernelColumn kj: Int, _ g: ConvolutionGeometry) -> (Int, Int) {
    let first = g.padding - kj            // ox·s must be ≥ this
    let last = g.width - 1 + g.padding - kj  // ox·s must be ≤ this
    if last < 0 { return (0, 0) }
    let lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride
    return (lo, min(g.outWidth, last / g.stride + 1))
}

/// out[y][x] = plane[y + dy][x + dx], or 0 outside the plane: one flat copy of the plane shifted
/// by dy·width + dx, then the |dx| columns that wrapped around to a neighbouring row are zeroed.
@inline(__always)
private func shiftedPlaneCopy(_ plane: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                              height h: Int, width w: Int, rowShift dy: Int, columnShift dx: Int) {
    let count = h * w, offset = dy * w + dx
    let lo = max(0, -offset), hi = min(count, count - offset)
    if lo >= hi { out.update(repeating: 0, count: count); return }
    out.update(repeating: 0, count: lo)
    (out + lo).update(from: plane + lo + offset, count: hi - lo)
    (out + hi).update(repeating: 0, count: count - hi)
    if dx > 0 {
        for y in 0..<h { for x in (w - min(dx, w))..<w { out[y * w + x] = 0 } }
    } else if dx < 0 {
        for y in 0..<h { for x in 0..<min(-dx, w) { out[y * w + x] = 0 } }
    }
}

/// Writes image `n`'s patches into columns [n·P, (n+1)·P) of `col` (patchSize × batch·P).
private func im2col(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, image n: Int,
                    _ col: UnsafeMutablePointer<Float>) {
    let (h, w, oh, ow, s, p) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
    let ld = g.batch * g.positions
    let image = x + n * g.inChannels * h * w
    let sameSize = s == 1 && oh == h && ow == w
    for c in 0..<g.inChannels {
        let plane = image + c * h * w
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld + n * g.positions
                if sameSize {
                    shiftedPlaneCopy(plane, row, height: h, width: w, rowShift: ki - p, columnShift: kj - p)
                    continue
                }
                let (lo, hi) = insideColumns(kernelColumn: kj, g)
                // Plain loops: rows are short (8–32 floats), too short for memcpy calls to pay.
                for oy in 0..<oh {
                    let iy = oy * s - p + ki
                    let out = row + oy * ow
                    if iy < 0 || iy >= h || lo >= hi {
                        for ox in 0..<ow { out[ox] = 0 }
                        continue
                    }
                    let src = plane + iy * w - p + kj
                    for ox in 0..<lo { out[ox] = 0 }
                    if s == 1 {
                        for ox in lo..<hi { out[ox] = src[ox] }
                    } else {
                        for ox in lo..<hi { out[ox] = src[ox * s] }
                    }
                    for ox in hi..<ow { out[ox] = 0 }
                }
            }
        }
    }
}

/// Adds image `n`'s columns of `col` back onto its input gradient (the adjoint of im2col).
private func col2im(_ col: UnsafePointer<Float>, _ g: ConvolutionGeometry, image n: Int,
                    _ dx: UnsafeMutablePointer<Float>) {
    let (h, w, oh, ow, s, p) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
    let ld = g.batch * g.positions
    let image = dx + n * g.inChannels * h * w
    for c in 0..<g.inChannels {
        let plane = image + c * h * w
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld + n * g.positions
                let (lo, hi) = insideColumns(kernelColumn: kj, g)
                if lo >= hi { continue }
                for oy in 0..<oh {
                    let iy = oy * s - p + ki
                    if iy < 0 || iy >= h { continue }
                    let src = row + oy * ow
                    let dst = plane + iy * w - p + kj
                    for ox in lo..<hi { dst[ox * s] += src[ox] }
                }
            }
        }
    }
}

/// The im2col matrix of a whole batch: patchSize × (batch · positions).
private func patchMatrix(_ x: Tensor, _ g: ConvolutionGeometry) -> [Float] {
    // im2col writes every entry (zeros included), so the buffer starts uninitialised.
    [Float](unsafeUninitializedCapacity: g.patchSize * g.batch * g.positions) { pc, initialized in
        initialized = pc.count
        x.scalars.withUnsafeBufferPointer { px in
            if g.isPointwise {
                // Channel c of image n is already row c, columns of block n.
                for n in 0..<g.batch {
                    for c in 0..<g.inChannels {
                        (pc.baseAddress! + c * g.batch * g.positions + n * g.positions)
                            .update(from: px.baseAddress! + (n * g.inChannels + c) * g.positions,
                                    count: g.positions)
                    }
                }
            } else {
                for n in 0..<g.batch { im2col(px.baseAddress!, g, image: n, pc.baseAddress!) }
            }
        }
    }
}

/// Reorders [C, batch·P] (channel-major over the batch) to NCHW [batch, C, P], or back.
private func swapBatchAndChannels(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                  channels: Int, batch: Int, positions: Int, toNCHW: Bool) {
    for c in 0..<channels {
        for n in 0..<batch {
            let a = c * batch * positions + n * positions
            let b = (n * channels + c) * positions
            if toNCHW { (dst + b).update(from: src + a, count: positions) }
            else { (dst + a).update(from: src + b, count: positions) }
        }
    }
}

/// 2-D convolution of `x` (NCHW) with `weight` (OIHW), optional `bias` [O], any kernel size,
/// stride and zero padding.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
    let g = ConvolutionGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    let (batch, outC, positions) = (g.batch, g.outChannels, g.positions)
    let columns = batch * positions
    // sgemm (beta 0) or the reordering writes every output scalar.
    var y = Tensor(shape: [batch, outC, g.outHeight, g.outWidth]) { _ in }
    weight.scalars.withUnsafeBufferPointer { pw in
        y.scalars.withUnsafeMutableBufferPointer { py in
            if batch == 1 && g.isPointwise {
                x.scalars.withUnsafeBufferPointer { px in
                    sgemm(m: outC, n: positions, k: g.patchSize, a: pw.baseAddress!, lda: g.patchSize,
                          b: px.baseAddress!, ldb: positions, c: py.baseAddress!, ldc: positions)
                }
            } else {
                let col = patchMatrix(x, g)
                col.withUnsafeBufferPointer { pc in
                    if batch == 1 {
                        sgemm(m: outC, n: columns, k: g.patchSize, a: pw.baseAddress!, lda: g.patchSize,
                              b: pc.baseAddress!, ldb: columns, c: py.baseAddress!, ldc: columns)
                    } else {
                        var wide = [Float](unsafeUninitializedCapacity: outC * columns) { $1 = $0.count }
                        wide.withUnsafeMutableBufferPointer { pwide in
                            sgemm(m: outC, n: columns, k: g.patchSize, a: pw.baseAddress!, lda: g.patchSize,
                                  b: pc.baseAddress!, ldb: columns, c: pwide.baseAddress!, ldc: columns)
                            swapBatchAndChannels(pwide.baseAddress!, py.baseAddress!, channels: outC,
                                                 batch: batch, positions: positions, toNCHW: true)
                        }
                    }
                }
            }
            if let bias {
                precondition(bias.count == outC, "conv2d: bias of \(bias.count) for \(outC) channels")
                for n in 0..<batch {
                    for o in 0..<outC {
                        let b = bias.scalars[o]
                        let base = py.baseAddress! + (n * outC + o) * positions
                        for i in 0..<positions { base[i] += b }
                    }
                }
            }
        }
    }
    return y
}

/// Taped 2-D convolution; the pullback recomputes the im2col matrix instead of keeping it.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0) -> Variable {
    let xv = x.value, wv = weight.value
    let y = conv2d(xv, weight: wv, bias: bias?.value, stride: stride, padding: padding)
    var parents = [x, weight]
    if let bias { parents.append(bias) }
    return .result(y, parents: parents) { dy in
        let g = ConvolutionGeometry(input: xv.shape, weight: wv.shape, stride: stride, padding: padding)
        let (batch, outC, positions, k) = (g.batch, g.outChannels, g.positions, g.patchSize)
        let columns = batch * positions
        // dy as [O, batch·P].
        var dyWide = [Float](repeating: 0, count: outC * columns)
        dy.scalars.withUnsafeBufferPointer { pdy in
            dyWide.withUnsafeMutableBufferPointer { pw in
                swapBatchAndChannels(pdy.baseAddress!, pw.baseAddress!, channels: outC,
                                     batch: batch, positions: positions, toNCHW: false)
            }
        }
        var dw: Tensor?
        if weight.requiresGrad {
            let col = patchMatrix(xv, g)
            var d = Tensor(zeros: wv.shape)
            dyWide.withUnsafeBufferPointer { pdy in
                col.withUnsafeBufferPointer { pc in
                    d.scalars.withUnsafeMutableBufferPointer { pd in
                        sgemm(transposeB: true, m: outC, n: k, k: columns, a: pdy.baseAddress!, lda: columns,
                              b: pc.baseAddress!, ldb: columns, c: pd.baseAddress!, ldc: k)
                    }
                }
            }
            dw = d
        }
        var dx: Tensor?
        if x.requiresGrad {
            var dcol = [Float](repeating: 0, count: k * columns)
            var d = Tensor(zeros: xv.shape)
            wv.scalars.withUnsafeBufferPointer { pw in
                dyWide.withUnsafeBufferPointer { pdy in
                    dcol.withUnsafeMutableBufferPointer { pc in
                        sgemm(transposeA: true, m: k, n: columns, k: outC, a: pw.baseAddress!, lda: k,
                              b: pdy.baseAddress!, ldb: columns, c: pc.baseAddress!, ldc: columns)
                    }
                }
            }
            dcol.withUnsafeBufferPointer { pc in
                d.scalars.withUnsafeMutableBufferPointer { pd in
                    if g.isPointwise {
                        swapBatchAndChannels(pc.baseAddress!, pd.baseAddress!, channels: g.inChannels,
                                             batch: batch, positions: positions, toNCHW: true)
                    } else {
                        for n in 0..<batch { col2im(pc.baseAddress!, g, image: n, pd.baseAddress!) }
                    }
                }
            }
            dx = d
        }
        var grads: [Tensor?] = [dx, dw]
        if bias != nil {
            var db = [Float](repeating: 0, count: outC)
            dy.scalars.withUnsafeBufferPointer { p in
                for n in 0..<batch {
                    for o in 0..<outC {
                        let base = (n * outC + o) * positions
                        var s: Float = 0
                        for i in 0..<positions { s += p[base + i] }
                        db[o] += s
                    }
                }
            }
            grads.append(Tensor(shape: [outC], scalars: db))
        }
        return grads
    }
}

/// The centre taps of an OIHW kernel with odd height and width, as an [O, I, 1, 1] kernel: a
/// 1×1 convolution that shares its weights with a larger one (the NB201 supernet's shared kernels,
/// as the original MODNAS code's `entangle_weights`).
public func centreTaps(_ weight: Tensor) -> Tensor {
    precondition(weight.shape.count == 4 && weight.shape[2] % 2 == 1 && weight.shape[3] % 2 == 1,
                 "centreTaps: an OIHW kernel of odd size, got \(weight.shape)")
    let (taps, centre) = centreTap(of: weight.shape)
    return Tensor(shape: [weight.shape[0], weight.shape[1], 1, 1]) { out in
        for i in out.indices { out[i] = weight.scalars[i * taps + centre] }
    }
}

/// Taps per kernel of an OIHW shape, and the offset of the centre tap within a kernel.
private func centreTap(of shape: [Int]) -> (taps: Int, centre: Int) {
    (shape[2] * shape[3], (shape[2] / 2) * shape[3] + shape[3] / 2)
}

/// Taped centre taps: the gradient reaches only the centre of each kernel.
public func centreTaps(_ weight: Variable) -> Variable {
    let shape = weight.shape
    return .result(centreTaps(weight.value), parents: [weight]) { dy in
        let (taps, centre) = centreTap(of: shape)
        var dw = Tensor(zeros: shape)
        for i in 0..<dy.count { dw.scalars[i * taps + centre] = dy.scalars[i] }
        return [dw]
    }
}
