// Average pooling: 3×3 stride 1 padding 1 (padding not counted), 2×2 stride 2, and global.

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

/// Sums of x[i−1], x[i], x[i+1] (in-bounds terms only), for `count` values `stride` apart.
@inline(__always)
private func threeTapSums(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int, stride s: Int) {
    if n == 1 { out[0] = x[0]; return }
    out[0] = x[0] + x[s]
    for i in 1..<(n - 1) { out[i * s] = x[(i - 1) * s] + x[i * s] + x[(i + 1) * s] }
    out[(n - 1) * s] = x[(n - 2) * s] + x[(n - 1) * s]
}

/// 3×3 average pooling, stride 1, padding 1, averaging only the in-bounds cells; computed as
/// separable row and column sums scaled by the window size.
public func averagePool3x3(_ x: Tensor) -> Tensor {
    let (np, h, w) = planes(x.shape)
    let invRows = inverseWindowSizes(h), invCols = inverseWindowSizes(w)
    var y = Tensor(zeros: x.shape)
    var rowSums = [Float](repeating: 0, count: h * w)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            rowSums.withUnsafeMutableBufferPointer { pr in
                let r = pr.baseAddress!
                for p in 0..<np {
                    let src = px.baseAddress! + p * h * w, dst = py.baseAddress! + p * h * w
                    for i in 0..<h { threeTapSums(src + i * w, r + i * w, count: w, stride: 1) }
                    for j in 0..<w { threeTapSums(r + j, dst + j, count: h, stride: w) }
                    for i in 0..<h {
                        let a = invRows[i], row = dst + i * w
                        for j in 0..<w { row[j] *= a * invCols[j] }
                    }
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
        var scaled = dy
        var dx = Tensor(zeros: dy.shape)
        var rowSums = [Float](repeating: 0, count: h * w)
        scaled.scalars.withUnsafeMutableBufferPointer { ps in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                rowSums.withUnsafeMutableBufferPointer { pr in
                    let r = pr.baseAddress!
                    for p in 0..<np {
                        let src = ps.baseAddress! + p * h * w, dst = pdx.baseAddress! + p * h * w
                        for i in 0..<h { for j in 0..<w { src[i * w + j] *= invRows[i] * invCols[j] } }
                        for i in 0..<h { threeTapSums(src + i * w, r + i * w, count: w, stride: 1) }
                        for j in 0..<w { threeTapSums(r + j, dst + j, count: h, stride: w) }
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
