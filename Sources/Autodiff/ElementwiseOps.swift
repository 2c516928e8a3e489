// ReLU, sums, scaling, products, reshaping and channel concatenation.

/// max(x, 0) elementwise.
public func relu(_ x: Tensor) -> Tensor {
    Tensor(shape: x.shape) { out in
        x.scalars.withUnsafeBufferPointer { p in
            for i in p.indices { out[i] = max(p[i], 0) }
        }
    }
}

/// Taped ReLU.
public func relu(_ x: Variable) -> Variable {
    let xv = x.value
    return .result(relu(xv), parents: [x]) { dy in
        var dx = dy
        dx.scalars.withUnsafeMutableBufferPointer { p in
            xv.scalars.withUnsafeBufferPointer { px in
                for i in p.indices { p[i] = px[i] > 0 ? p[i] : 0 }
            }
        }
        return [dx]
    }
}

/// Taped x · w[index]: scales `x` by one entry of `weights`, and passes ⟨∂y, x⟩ back to that
/// entry (a supernet's edge output weighted by its sampled one-hot entry).
public func scale(_ x: Variable, byEntry index: Int, of weights: Variable) -> Variable {
    let w = weights.value.scalars[index], xv = x.value
    return .result(xv.scaled(by: w), parents: [x, weights]) { dy in
        var dw = Tensor(zeros: weights.shape)
        var dot: Double = 0
        for i in 0..<dy.count { dot += Double(dy.scalars[i]) * Double(xv.scalars[i]) }
        dw.scalars[index] = Float(dot)
        return [dy.scaled(by: w), dw]
    }
}

/// Taped elementwise sum of tensors of one shape.
public func add(_ terms: [Variable]) -> Variable {
    precondition(!terms.isEmpty, "add: needs at least one term")
    var y = terms[0].value
    for t in terms.dropFirst() { y.add(t.value) }
    return .result(y, parents: terms) { dy in terms.map { _ in dy } }
}

/// Taped `a + b` for equal shapes.
public func + (a: Variable, b: Variable) -> Variable { add([a, b]) }

/// Taped `x · factor` for a constant factor.
public func scale(_ x: Variable, by factor: Float) -> Variable {
    .result(x.value.scaled(by: factor), parents: [x]) { dy in [dy.scaled(by: factor)] }
}

/// Elementwise product of tensors of one shape.
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "multiply: shapes \(a.shape) and \(b.shape) differ")
    var y = a
    for i in 0..<y.count { y.scalars[i] *= b.scalars[i] }
    return y
}

/// Taped elementwise product `a ⊙ b`.
public func multiply(_ a: Variable, _ b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return .result(multiply(av, bv), parents: [a, b]) { dy in
        [a.requiresGrad ? multiply(dy, bv) : nil, b.requiresGrad ? multiply(dy, av) : nil]
    }
}

/// Taped sum of all elements, as a scalar.
public func sum(_ x: Variable) -> Variable {
    let shape = x.shape
    return .result(Tensor(scalar: Float(x.value.sum())), parents: [x]) { dy in
        [Tensor(repeating: dy.scalars[0], shape: shape)]
    }
}

/// Taped reshape to a shape with the same element count.
public func reshape(_ x: Variable, to shape: [Int]) -> Variable {
    let old = x.shape
    return .result(x.value.reshaped(shape), parents: [x]) { dy in [dy.reshaped(old)] }
}

/// Concatenation of NCHW (or NC) tensors along the channel axis.
public func concatChannels(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty, "concatChannels: needs at least one tensor")
    let n = xs[0].shape[0], rest = Array(xs[0].shape.dropFirst(2)), plane = rest.reduce(1, *)
    for x in xs { precondition(x.shape[0] == n && Array(x.shape.dropFirst(2)) == rest,
                               "concatChannels: shapes \(xs.map(\.shape)) differ beyond channels") }
    let total = xs.reduce(0) { $0 + $1.shape[1] }
    var out = [Float]()
    out.reserveCapacity(n * total * plane)
    for b in 0..<n {
        for x in xs {
            let c = x.shape[1]
            out.append(contentsOf: x.scalars[(b * c * plane)..<((b + 1) * c * plane)])
        }
    }
    return Tensor(shape: [n, total] + rest, scalars: out)
}

/// Taped concatenation along the channel axis.
public func concatChannels(_ xs: [Variable]) -> Variable {
    let shapes = xs.map(\.shape)
    return .result(concatChannels(xs.map(\.value)), parents: xs) { dy in
        let n = dy.shape[0], plane = dy.shape.dropFirst(2).reduce(1, *), total = dy.shape[1]
        var offset = 0
        return shapes.map { shape in
            let c = shape[1]
            var g = [Float]()
            g.reserveCapacity(n * c * plane)
            for b in 0..<n {
                let start = (b * total + offset) * plane
                g.append(contentsOf: dy.scalars[start..<(start + c * plane)])
            }
            offset += c
            return Tensor(shape: shape, scalars: g)
        }
    }
}

/// Concatenation along the first axis of tensors whose other axes agree (e.g. OIHW weights).
public func concatenateRows(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty, "concatenateRows: needs at least one tensor")
    let rest = Array(xs[0].shape.dropFirst())
    for x in xs { precondition(Array(x.shape.dropFirst()) == rest, "concatenateRows: shapes \(xs.map(\.shape)) differ beyond axis 0") }
    return Tensor(shape: [xs.reduce(0) { $0 + $1.shape[0] }] + rest, scalars: xs.flatMap(\.scalars))
}

/// Taped concatenation along the first axis.
public func concatenateRows(_ xs: [Variable]) -> Variable {
    let counts = xs.map(\.value.count), shapes = xs.map(\.shape)
    return .result(concatenateRows(xs.map(\.value)), parents: xs) { dy in
        var offset = 0
        return zip(counts, shapes).map { count, shape in
            defer { offset += count }
            return Tensor(shape: shape, scalars: Array(dy.scalars[offset..<(offset + count)]))
        }
    }
}

/// Channels `range` of an NCHW (or NC) tensor.
public func sliceChannels(_ x: Tensor, _ range: Range<Int>) -> Tensor {
    let n = x.shape[0], c = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
    precondition(range.lowerBound >= 0 && range.upperBound <= c, "sliceChannels: \(range) outside 0..<\(c)")
    if n == 1 && range == 0..<c { return x }
    var shape = x.shape
    shape[1] = range.count
    return Tensor(shape: shape) { out in
        x.scalars.withUnsafeBufferPointer { px in
            for b in 0..<n {
                (out.baseAddress! + b * range.count * plane)
                    .update(from: px.baseAddress! + (b * c + range.lowerBound) * plane, count: range.count * plane)
            }
        }
    }
}

/// Taped channel slice: the gradient is zero outside `range`.
public func sliceChannels(_ x: Variable, _ range: Range<Int>) -> Variable {
    let shape = x.shape
    return .result(sliceChannels(x.value, range), parents: [x]) { dy in
        let n = shape[0], c = shape[1], plane = shape.dropFirst(2).reduce(1, *)
        var dx = Tensor(zeros: shape)
        for b in 0..<n {
            let src = b * range.count * plane, dst = (b * c + range.lowerBound) * plane
            dx.scalars.replaceSubrange(dst..<(dst + range.count * plane), with: dy.scalars[src..<(src + range.count * plane)])
        }
        return [dx]
    }
}
