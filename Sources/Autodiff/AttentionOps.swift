import Foundation

/// Rows `ids` of an embedding table [V, E]: [ids.count, E]. Every id must be below V.
public func embedding(_ table: Tensor, ids: [Int]) -> Tensor {
    let e = table.shape[1]
    precondition(table.shape.count == 2 && ids.allSatisfy { (0..<table.shape[0]).contains($0) }, "embedding: an id outside the table")
    var out = Tensor(zeros: [ids.count, e])
    for (r, id) in ids.enumerated() { out.scalars.replaceSubrange((r * e)..<((r + 1) * e), with: table.scalars[(id * e)..<((id + 1) * e)]) }
    return out
}

/// Taped embedding lookup: the gradient of each looked-up row is added to its table row.
public func embedding(_ table: Variable, ids: [Int]) -> Variable {
    let shape = table.value.shape, e = shape[1]
    return .result(embedding(table.value, ids: ids), parents: [table]) { dy in
        var dTable = Tensor(zeros: shape)
        for (r, id) in ids.enumerated() {
            for k in 0..<e { dTable.scalars[id * e + k] += dy.scalars[r * e + k] }
        }
        return [dTable]
    }
}

/// Rotary position embedding (Su et al., 2021, in lit-gpt's rotate-half form) on the first
/// `dimensions` of each row of x [G, T, D]: for k < n/2 = `dimensions`/2 and position t, the pair
/// (x_k, x_{k+n/2}) turns by t · base^(−2k/n); the other D − n entries pass through.
public func rotaryEmbedding(_ x: Tensor, dimensions n: Int, base: Double = 10_000) -> Tensor {
    rotate(x, dimensions: n, base: base, sign: 1)
}

/// Taped rotary embedding; its gradient is the same rotation backwards.
public func rotaryEmbedding(_ x: Variable, dimensions n: Int, base: Double = 10_000) -> Variable {
    .result(rotate(x.value, dimensions: n, base: base, sign: 1), parents: [x]) { dy in [rotate(dy, dimensions: n, base: base, sign: -1)] }
}

private func rotate(_ x: Tensor, dimensions n: Int, base: Double, sign: Float) -> Tensor {
    precondition(x.shape.count == 3 && n % 2 == 0 && n <= x.shape[2], "rotaryEmbedding: x [G, T, D] and an even number of dimensions ≤ D")
    let (groups, length, d) = (x.shape[0], x.shape[1], x.shape[2]), half = n / 2
    var out = x
    for t in 0..<length {
        for k in 0..<half {
            let angle = Double(t) * Foundation.pow(base, -2 * Double(k) / Double(n))
            let (c, s) = (Float(Foundation.cos(angle)), sign * Float(Foundation.sin(angle)))
            for g in 0..<groups {
                let row = (g * length + t) * d
                let (a, b) = (x.scalars[row + k], x.scalars[row + k + half])
                out.scalars[row + k] = a * c - b * s
                out.scalars[row + k + half] = b * c + a * s
            }
        }
    }
    return out
}

/// Causal scaled dot-product attention of q, k, v [G, T, D] (G = batch × heads): row i attends to
/// rows j ≤ i with weights softmax_j(q_i · k_j / √D); no mask is materialised.
public func causalAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor { attentionForward(q, k, v).output }

/// The output and the attention weights (row i holds i + 1 of them, at the start of its T).
private func attentionForward(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> (output: Tensor, weights: [Float]) {
    precondition(q.shape.count == 3 && k.shape == q.shape && v.shape == q.shape, "causalAttention: q, k, v of one shape [G, T, D]")
    let (groups, length, d) = (q.shape[0], q.shape[1], q.shape[2]), scale = 1 / Float(d).squareRoot()
    var output = Tensor(zeros: q.shape), weights = [Float](repeating: 0, count: groups * length * length)
    for g in 0..<groups {
        let base = g * length * d
        for i in 0..<length {
            let w = (g * length + i) * length
            var largest = -Float.infinity
            for j in 0...i {
                var dot: Float = 0
                for c in 0..<d { dot += q.scalars[base + i * d + c] * k.scalars[base + j * d + c] }
                weights[w + j] = dot * scale
                largest = max(largest, weights[w + j])
            }
            var total: Float = 0
            for j in 0...i { weights[w + j] = Foundation.exp(weights[w + j] - largest); total += weights[w + j] }
            for j in 0...i {
                weights[w + j] /= total
                for c in 0..<d { output.scalars[base + i * d + c] += weights[w + j] * v.scalars[base + j * d + c] }
            }
        }
    }
    return (output, weights)
}

/// Taped causal attention: with P the weights and dS = P ⊙ (dP − Σ_j P dP), dq = dS·k/√D,
/// dk = dSᵀ·q/√D and dv = Pᵀ·dO.
public func causalAttention(_ q: Variable, _ k: Variable, _ v: Variable) -> Variable {
    let (qv, kv, vv) = (q.value, k.value, v.value)
    let (output, weights) = attentionForward(qv, kv, vv)
    return .result(output, parents: [q, k, v]) { dO in
        let (groups, length, d) = (qv.shape[0], qv.shape[1], qv.shape[2]), scale = 1 / Float(d).squareRoot()
        var dq = Tensor(zeros: qv.shape), dk = Tensor(zeros: kv.shape), dv = Tensor(zeros: vv.shape)
        var dP = [Float](repeating: 0, count: length)
        for g in 0..<groups {
            let base = g * length * d
            for i in 0..<length {
                let w = (g * length + i) * length
                var weighted: Float = 0
                for j in 0...i {
                    var dot: Float = 0
                    for c in 0..<d {
                        dot += dO.scalars[base + i * d + c] * vv.scalars[base + j * d + c]
                        dv.scalars[base + j * d + c] += weights[w + j] * dO.scalars[base + i * d + c]
                    }
                    dP[j] = dot
                    weighted += weights[w + j] * dot
                }
                for j in 0...i {
                    let dS = weights[w + j] * (dP[j] - weighted) * scale
                    for c in 0..<d {
                        dq.scalars[base + i * d + c] += dS * kv.scalars[base + j * d + c]
                        dk.scalars[base + j * d + c] += dS * qv.scalars[base + i * d + c]
                    }
                }
            }
        }
        return [dq, dk, dv]
    }
}

/// Rows [B·T, H·D] (token-major, heads side by side) as [B·H, T, D] (one group per sequence and head).
public func splitHeads(_ x: Tensor, batch: Int, heads: Int) -> Tensor { permuteHeads(x, batch: batch, heads: heads, splitting: true) }

/// Taped head split; its gradient is the merge.
public func splitHeads(_ x: Variable, batch: Int, heads: Int) -> Variable {
    .result(splitHeads(x.value, batch: batch, heads: heads), parents: [x]) { dy in [mergeHeads(dy, heads: heads)] }
}

/// Groups [B·H, T, D] back to rows [B·T, H·D].
public func mergeHeads(_ x: Tensor, heads: Int) -> Tensor { permuteHeads(x, batch: x.shape[0] / heads, heads: heads, splitting: false) }

/// Taped head merge; its gradient is the split.
public func mergeHeads(_ x: Variable, heads: Int) -> Variable {
    let batch = x.value.shape[0] / heads
    return .result(mergeHeads(x.value, heads: heads), parents: [x]) { dy in [splitHeads(dy, batch: batch, heads: heads)] }
}

/// Moves each D-wide block between (b, t, h) in rows [B·T, H·D] and (b, h, t) in groups [B·H, T, D].
private func permuteHeads(_ x: Tensor, batch: Int, heads: Int, splitting: Bool) -> Tensor {
    let length: Int, d: Int
    if splitting {
        precondition(x.shape.count == 2 && x.shape[0] % batch == 0 && x.shape[1] % heads == 0, "splitHeads: rows [B·T, H·D]")
        (length, d) = (x.shape[0] / batch, x.shape[1] / heads)
    } else {
        precondition(x.shape.count == 3 && x.shape[0] == batch * heads, "mergeHeads: groups [B·H, T, D]")
        (length, d) = (x.shape[1], x.shape[2])
    }
    var out = Tensor(zeros: splitting ? [batch * heads, length, d] : [batch * length, heads * d])
    for b in 0..<batch {
        for t in 0..<length {
            for h in 0..<heads {
                let row = ((b * length + t) * heads + h) * d, group = ((b * heads + h) * length + t) * d
                let (from, to) = splitting ? (row, group) : (group, row)
                out.scalars.replaceSubrange(to..<(to + d), with: x.scalars[from..<(from + d)])
            }
        }
    }
    return out
}
