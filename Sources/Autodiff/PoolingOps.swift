// Average pooling: 3×3 stride 1 padding 1 (padding not counted), 2×2 stride 2, and global.

/// Spatial size of an NCHW tensor as (planes = N·C, height, width).
private func planes(_ shape: [Int]) -> (Int, Int, Int) {
    precondition(shape.count == 4, "pooling: needs NCHW, got \(shape)")
    return (shape[0] * shape[1], shape[2], shape[3])
}

/// The number of in-bounds cells of the 3×3 window centred at (y, x).
@inline(__always)
private func windowCount(_ y: Int, _ x: Int, _ h: Int, _ w: Int) -> Float {
    let rows = min(y + 1, h - 1) - max(y - 1, 0) + 1
    let cols = min(x + 1, w - 1) - max(x - 1, 0) + 1
    return Float(rows * cols)
}

/// 3×3 average pooling, stride 1, padding 1, averaging only the in-bounds cells.
public func averagePool3x3(_ x: Tensor) -> Tensor {
    let (np, h, w) = planes(x.shape)
    var y = Tensor(zeros: x.shape)
    x.scalars.withUnsafeBufferPointer { px in
        y.scalars.withUnsafeMutableBufferPointer { py in
            for p in 0..<np {
                let src = px.baseAddress! + p * h * w, dst = py.baseAddress! + p * h * w
                for i in 0..<h {
                    for j in 0..<w {
                        var s: Float = 0
                        for a in max(i - 1, 0)...min(i + 1, h - 1) {
                            for b in max(j - 1, 0)...min(j + 1, w - 1) { s += src[a * w + b] }
                        }
                        dst[i * w + j] = s / windowCount(i, j, h, w)
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
        let (np, h, w) = planes(dy.shape)
        var dx = Tensor(zeros: dy.shape)
        dy.scalars.withUnsafeBufferPointer { pdy in
            dx.scalars.withUnsafeMutableBufferPointer { pdx in
                for p in 0..<np {
                    let src = pdy.baseAddress! + p * h * w, dst = pdx.baseAddress! + p * h * w
                    for i in 0..<h {
                        for j in 0..<w {
                            let g = src[i * w + j] / windowCount(i, j, h, w)
                            for a in max(i - 1, 0)...min(i + 1, h - 1) {
                                for b in max(j - 1, 0)...min(j + 1, w - 1) { dst[a * w + b] += g }
                            }
                        }
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
