// Average pooling: 3×3 stride 1 padding 1 (padding not counted), 2×2 stride 2, and global.

import CKernels

/// Spatial size of an NCHW tensor as (planes = N·C, height, width).
private func planes(_ shape: [Int]) -> (Int, Int, Int) {
    precondition(shape.count == 4, "pooling: needs NCHW, got \(shape)")
    return (shape[0] * shape[1], shape[2], shape[3])
}

/// 1 / (number of in-bounds cells of the 3×3 window) for each row or column position of a side of length n.
@inline(__always)
private func inverseWindowSizes(_ n: Int) -> [Float] {
    (0..<n).map { i in 1 / Float(min(i + 1, n - 1) - max(i - 1, 0) + 1) }
}

/// Sums of x[i−1], x[i], x[i+1] (in-bounds terms only) along a contiguous row of n values.
@inline(__always)
private func threeTapRowSums(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
    if n == 1 { out[0] = x[0]; return }
    out[0] = x[0] + x[1]
    for i in 1..<(n - 1) { out[i] = x[i - 1] + x[i] + x[i + 1] }
    out[n - 1] = x[n - 2] + x[n - 1]
}

/// One h×w plane's in-bounds 3×3 box sums, each scaled by rowScale[i] · columnScale[j]: row sums
/// into `rowSums` (h·w scratch), then the sums of three neighbouring rows, written a row at a time
/// so that both passes run along contiguous memory.
@inline(__always)
private func boxSums3x3(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rowSums r: UnsafeMutablePointer<Float>,
                        height h: Int, width w: Int, rowScale: UnsafePointer<Float>, columnScale c: UnsafePointer<Float>) {
    for i in 0..<h { threeTapRowSums(src + i * w, r + i * w, count: w) }
    for i in 0..<h {
        let a = rowScale[i], mid = r + i * w, out = dst + i * w
        switch (i > 0, i < h - 1) {
        case (true, true):
            let up = mid - w, down = mid + w
            for j in 0..<w { out[j] = (up[j] + mid[j] + down[j]) * (a * c[j]) }
        case (false, true):
            let down = mid + w
            for j in 0..<w { out[j] = (mid[j] + down[j]) * (a * c[j]) }
        case (true, false):
            let up = mid - w
            for j in 0..<w { out[j] = (up[j] + mid[j]) * (a * c[j]) }
        case (false, false):
            for j in 0..<w { out[j] = mid[j] * (a * c[j]) }
        }
    }
}

/// 3×3 average pooling, stride 1, padding 1, averaging only the in-bounds cells; computed as
/// separable row and column sums scaled by the window size: by CKernels' kernel for `path` (the
/// same sums in the same order, so the same result), or by the portable one.
public func averagePool3x3(_ x: Tensor, path: KernelPath = CPUKernels.path) -> Tensor {
    guard let isa = path.isa else { return portableAveragePool3x3(x) }
    let (np, h, w) = planes(x.shape)
    // The kernel writes every output scalar.
    var y = Tensor(shape: x.shape) { _ in }
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            modnas_average_pool3x3(isa, px.baseAddress!, np, Int32(h), Int32(w), py.baseAddress!)
        }
    }
    return y
}

/// The portable 3×3 average pooling (what the AVX-512 kernel must equal).
func portableAveragePool3x3(_ x: Tensor) -> Tensor {
    let (np, h, w) = planes(x.shape)
    let invRows = inverseWindowSizes(h), invCols = inverseWindowSizes(w)
    // boxSums3x3 writes every output scalar.
    var y = Tensor(shape: x.shape) { _ in }
    var rowSums = [Float](repeating: 0, count: h * w)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            rowSums.withUnsafeMutableBufferPointer { pr in
                for p in 0..<np {
                    boxSums3x3(px.baseAddress! + p * h * w, py.baseAddress! + p * h * w, rowSums: pr.baseAddress!,
                               height: h, width: w, rowScale: invRows, columnScale: invCols)
                }
            }
        }
    }
    return y
}

/// Taped 3×3 average pooling (stride 1, padding 1, padding not counted).
public func averagePool3x3(_ x: Variable) -> Variable {
    .result(averagePool3x3(x.value), parents: [x]) { dy in
        // y = D·S·x with S the (symmetric) in-bounds 3×3 box sum and D the 1/count scaling,
        // so dx = S·D·dy: scale first, then box-sum.
        let (np, h, w) = planes(dy.shape)
        let invRows = inverseWindowSizes(h), invCols = inverseWindowSizes(w)
        let ones = [Float](repeating: 1, count: max(h, w))
        var scaled = dy
        var dx = Tensor(shape: dy.shape) { _ in }
        var rowSums = [Float](repeating: 0, count: h * w)
        scaled.scalars.withUnsafeMutableBufferPointer { ps in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                rowSums.withUnsafeMutableBufferPointer { pr in
                    for p in 0..<np {
                        let src = ps.baseAddress! + p * h * w
                        for i in 0..<h { for j in 0..<w { src[i * w + j] *= invRows[i] * invCols[j] } }
                        boxSums3x3(src, pdx.baseAddress! + p * h * w, rowSums: pr.baseAddress!,
                                   height: h, width: w, rowScale: ones, columnScale: ones)
                    }
                }
            }
        }
        return [dx]
    }
}

/// 2×2 average pooling with stride 2 (odd trailing rows and columns are dropped).
public func averagePool2x2(_ x: Tensor) -> Tensor {
    let (np, h, w) = planes(x.shape)
    let (oh, ow) = (h / 2, w / 2)
    var y = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow])
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            for p in 0..<np {
                let src = px.baseAddress! + p * h * w, dst = py.baseAddress! + p * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        let r0 = src + 2 * i * w + 2 * j, r1 = r0 + w
                        dst[i * ow + j] = 0.25 * (r0[0] + r0[1] + r1[0] + r1[1])
                    }
                }
            }
        }
    }
    return y
}

/// Taped 2×2 average pooling with stride 2.
public func averagePool2x2(_ x: Variable) -> Variable {
    let inShape = x.shape
    return .result(averagePool2x2(x.value), parents: [x]) { dy in
        let (np, h, w) = planes(inShape)
        let (oh, ow) = (h / 2, w / 2)
        var dx = Tensor(zeros: inShape)
        dy.scalars.withUnsafeBufferPointer { pdy in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                for p in 0..<np {
                    let src = pdy.baseAddress! + p * oh * ow, dst = pdx.baseAddress! + p * h * w
                    for i in 0..<oh {
                        for j in 0..<ow {
                            let g = 0.25 * src[i * ow + j]
                            let r0 = dst + 2 * i * w + 2 * j, r1 = r0 + w
                            r0[0] = g; r0[1] = g; r1[0] = g; r1[1] = g
                        }
                    }
                }
            }
        }
        return [dx]
    }
}

/// Global average pooling: NCHW → [N, C].
public func globalAveragePool(_ x: Tensor) -> Tensor {
    let (np, h, w) = planes(x.shape)
    var out = [Float](repeating: 0, count: np)
    x.scalars.withUnsafeBufferPointer { px in
        for p in 0..<np {
            var s: Float = 0
            for i in 0..<(h * w) { s += px[p * h * w + i] }
            out[p] = s / Float(h * w)
        }
    }
    return Tensor(shape: [x.shape[0], x.shape[1]], scalars: out)
}

/// Taped global average pooling: NCHW → [N, C].
public func globalAveragePool(_ x: Variable) -> Variable {
    let inShape = x.shape
    return .result(globalAveragePool(x.value), parents: [x]) { dy in
        let (np, h, w) = planes(inShape)
        var dx = [Float](repeating: 0, count: np * h * w)
        for p in 0..<np {
            let g = dy.scalars[p] / Float(h * w)
            for i in 0..<(h * w) { dx[p * h * w + i] = g }
        }
        return [Tensor(shape: inShape, scalars: dx)]
    }
}
