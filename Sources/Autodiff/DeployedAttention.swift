import Foundation

/// The deployed graph's causal self-attention on token rows: q, k, v [B·T, H·D] (heads side by
/// side, as the projections give them) → [B·T, H·D]. The rotary embedding turns the first
/// `rotaryDimensions` of each head of q and k; per sequence and head, the scores Q·Kᵀ/√D and the
/// output P·V are `sgemm` products read in place with the rows' stride, and the softmax runs over
/// j ≤ i only (no mask is materialised; the upper triangle of P is zero). Equals `splitHeads`,
/// `rotaryEmbedding`, `causalAttention` and `mergeHeads` in turn.
public func causalSelfAttention(query: Tensor, key: Tensor, value: Tensor, batch: Int, heads: Int, rotaryDimensions: Int,
                                base: Double = 10_000) -> Tensor {
    let rows = query.shape[0], width = query.shape[1], length = rows / batch, d = width / heads
    precondition(query.shape.count == 2 && key.shape == query.shape && value.shape == query.shape && rows == batch * length
                 && width == heads * d && rotaryDimensions % 2 == 0 && rotaryDimensions <= d,
                 "causalSelfAttention: q, k, v [B·T, H·D] with an even rotary width ≤ D")
    let q = rotaryEmbedding(rows: query, sequenceLength: length, heads: heads, dimensions: rotaryDimensions, base: base)
    let k = rotaryEmbedding(rows: key, sequenceLength: length, heads: heads, dimensions: rotaryDimensions, base: base)
    var output = Tensor(zeros: query.shape)
    var scores = [Float](repeating: 0, count: length * length)
    let scale = 1 / Float(d).squareRoot()
    withBuffers(q, k, value, &output, &scores) { qp, kp, vp, op, sp in
        for b in 0..<batch {
            for h in 0..<heads {
                let offset = b * length * width + h * d
                sgemm(transposeB: true, m: length, n: length, k: d, alpha: scale, a: qp + offset, lda: width,
                      b: kp + offset, ldb: width, c: sp, ldc: length)
                for i in 0..<length {
                    let row = sp + i * length
                    var largest = -Float.infinity
                    for j in 0...i { largest = max(largest, row[j]) }
                    var total: Float = 0
                    for j in 0...i { row[j] = Foundation.exp(row[j] - largest); total += row[j] }
                    let inverse = 1 / total
                    for j in 0...i { row[j] *= inverse }
                    for j in (i + 1)..<length { row[j] = 0 }
                }
                sgemm(m: length, n: d, k: length, a: sp, lda: length, b: vp + offset, ldb: width, c: op + offset, ldc: width)
            }
        }
    }
    return output
}

/// One decoding step of causal self-attention: the new token's rows q, k, v [B, H·D] at position
/// P (one per sequence) attend to the P cached positions of their sequence (`cachedKeys`, already
/// rotated, and `cachedValues`, [B·P, H·D]) and to themselves. Per sequence and head the scores
/// and the weighted sum are `sgemm` products of one row read in place from the caches.
public func cachedSelfAttention(query: Tensor, key: Tensor, value: Tensor, cachedKeys: Tensor, cachedValues: Tensor,
                                heads: Int, rotaryDimensions: Int, base: Double = 10_000) -> Tensor {
    let (batch, width) = (query.shape[0], query.shape[1]), d = width / heads, past = cachedKeys.shape[0] / batch
    precondition(query.shape.count == 2 && key.shape == query.shape && value.shape == query.shape && width == heads * d
                 && cachedKeys.shape == [batch * past, width] && cachedValues.shape == cachedKeys.shape,
                 "cachedSelfAttention: q, k, v [B, H·D] and caches [B·P, H·D]")
    let q = rotaryEmbedding(rows: query, sequenceLength: 1, heads: heads, dimensions: rotaryDimensions, firstPosition: past, base: base)
    let k = rotaryEmbedding(rows: key, sequenceLength: 1, heads: heads, dimensions: rotaryDimensions, firstPosition: past, base: base)
    var output = Tensor(zeros: query.shape)
    var scores = [Float](repeating: 0, count: past + 1)
    let scale = 1 / Float(d).squareRoot()
    withBuffers(q, cachedKeys, cachedValues, &output, &scores) { qp, kp, vp, op, sp in
        for b in 0..<batch {
            for h in 0..<heads {
                let row = b * width + h * d, cache = b * past * width + h * d
                if past > 0 {
                    sgemm(transposeB: true, m: 1, n: past, k: d, alpha: scale, a: qp + row, lda: width, b: kp + cache, ldb: width,
                          c: sp, ldc: past + 1)
                }
                var own: Float = 0
                for c in 0..<d { own += qp[row + c] * k.scalars[row + c] }
                sp[past] = own * scale
                var largest = -Float.infinity
                for j in 0...past { largest = max(largest, sp[j]) }
                var total: Float = 0
                for j in 0...past { sp[j] = Foundation.exp(sp[j] - largest); total += sp[j] }
                for j in 0...past { sp[j] /= total }
                if past > 0 { sgemm(m: 1, n: d, k: past, a: sp, lda: past + 1, b: vp + cache, ldb: width, c: op + row, ldc: width) }
                for c in 0..<d { op[row + c] += sp[past] * value.scalars[row + c] }
            }
        }
    }
    return output
}

/// Rows [B·T, H·D] with the rotary embedding applied to the first `n` dimensions of every head,
/// in lit-gpt's rotate-half form; row r is at position `firstPosition` + r mod T.
public func rotaryEmbedding(rows x: Tensor, sequenceLength length: Int, heads: Int, dimensions n: Int, firstPosition: Int = 0,
                            base: Double = 10_000) -> Tensor {
    guard n > 0 else { return x }
    let width = x.shape[1], d = width / heads, half = n / 2
    var out = x
    for t in 0..<length {
        let turns = (0..<half).map { k -> (Float, Float) in
            let angle = Double(firstPosition + t) * Foundation.pow(base, -2 * Double(k) / Double(n))
            return (Float(Foundation.cos(angle)), Float(Foundation.sin(angle)))
        }
        for r in stride(from: t, to: x.shape[0], by: length) {
            for h in 0..<heads {
                let start = r * width + h * d
                for (k, (c, s)) in turns.enumerated() {
                    let (a, b) = (x.scalars[start + k], x.scalars[start + k + half])
                    out.scalars[start + k] = a * c - b * s
                    out.scalars[start + k + half] = b * c + a * s
                }
            }
        }
    }
    return out
}

/// Runs `body` with the base addresses of three tensors read (queries, keys, values) and of the
/// output and the scores written.
private func withBuffers(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ output: inout Tensor, _ scores: inout [Float],
                         _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                  UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
    q.scalars.withUnsafeBufferPointer { qp in
        k.scalars.withUnsafeBufferPointer { kp in
            v.scalars.withUnsafeBufferPointer { vp in
                output.scalars.withUnsafeMutableBufferPointer { op in
                    scores.withUnsafeMutableBufferPointer { sp in
                        body(qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, op.baseAddress!, sp.baseAddress!)
                    }
                }
            }
        }
    }
}
