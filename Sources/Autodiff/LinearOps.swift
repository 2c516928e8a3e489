// Matrix product and fully connected layer, forward kernels on `Tensor` and taped ops on `Variable`.

/// The matrix product of `a` (m×k) and `b` (k×n).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    matmul(a, b, transposeA: false, transposeB: false)
}

/// The matrix product op(a)·op(b), where op transposes when asked.
func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul: needs matrices, got \(a.shape) and \(b.shape)")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(k == k2, "matmul: inner sizes differ in \(a.shape) and \(b.shape)")
    if m == 0 || n == 0 || k == 0 { return Tensor(zeros: [m, n]) }
    // sgemm with β = 0 writes every entry: no zero-fill first.
    return Tensor(shape: [m, n]) { pc in
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                      a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                      c: pc.baseAddress!, ldc: n)
            }
        }
    }
}

/// A fully connected layer: `x · weightᵀ + bias` for x of shape [batch, in], weight [out, in].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    var y = matmul(x, weight, transposeA: false, transposeB: true)
    if let bias { addRowVector(&y, bias) }
    return y
}

/// `linear` of a single row ([1, in] → [1, out]) as one matrix–vector product: sgemm would first
/// pack the whole weight, sgemv reads it once. What the deployed graph runs at batch 1.
public func linearOfOneRow(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(x.shape.count == 2 && x.shape[0] == 1 && weight.shape.count == 2 && weight.shape[1] == x.shape[1],
                 "linearOfOneRow: input \(x.shape), weight \(weight.shape)")
    let out = weight.shape[0]
    var y = bias.map { Tensor(shape: [1, out], scalars: $0.scalars) } ?? Tensor(zeros: [1, out])
    precondition(y.count == out, "linearOfOneRow: bias of \(y.count) for \(out) outputs")
    weight.scalars.withUnsafeBufferPointer { pw in
        x.scalars.withUnsafeBufferPointer { px in
            y.scalars.withUnsafeMutableBufferPointer { py in
                sgemv(m: out, n: x.shape[1], a: pw.baseAddress!, lda: x.shape[1], x: px.baseAddress!, beta: 1, y: py.baseAddress!)
            }
        }
    }
    return y
}

/// Adds `row` (shape [n]) to every row of the matrix `y` (shape [m, n]).
func addRowVector(_ y: inout Tensor, _ row: Tensor) {
    let n = y.shape[1]
    precondition(row.count == n, "bias of \(row.count) for \(n) columns")
    y.scalars.withUnsafeMutableBufferPointer { p in
        row.scalars.withUnsafeBufferPointer { r in
            for i in 0..<(p.count / max(n, 1)) {
                for j in 0..<n { p[i * n + j] += r[j] }
            }
        }
    }
}

/// Column sums of a matrix (shape [m, n] → [n]).
func columnSums(_ y: Tensor) -> Tensor {
    let n = y.shape[1]
    var out = [Float](repeating: 0, count: n)
    y.scalars.withUnsafeBufferPointer { p in
        for i in 0..<(p.count / max(n, 1)) {
            for j in 0..<n { out[j] += p[i * n + j] }
        }
    }
    return Tensor(shape: [n], scalars: out)
}

/// Taped matrix product of `a` (m×k) and `b` (k×n).
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return .result(matmul(av, bv), parents: [a, b]) { g in
        [a.requiresGrad ? matmul(g, bv, transposeA: false, transposeB: true) : nil,
         b.requiresGrad ? matmul(av, g, transposeA: true, transposeB: false) : nil]
    }
}

/// Taped fully connected layer: `x · weightᵀ + bias`.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let xv = x.value, wv = weight.value
    let y = linear(xv, weight: wv, bias: bias?.value)
    var parents = [x, weight]
    if let bias { parents.append(bias) }
    return .result(y, parents: parents) { g in
        var grads: [Tensor?] = [
            x.requiresGrad ? matmul(g, wv) : nil,
            weight.requiresGrad ? matmul(g, xv, transposeA: true, transposeB: false) : nil,
        ]
        if bias != nil { grads.append(columnSums(g)) }
        return grads
    }
}
