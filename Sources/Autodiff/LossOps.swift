import Foundation

// Softmax, log-softmax and the losses, over the last axis of a [rows, classes] matrix.

/// Softmax over the last axis of a matrix [rows, classes].
public func softmax(_ x: Tensor) -> Tensor {
    var y = logSoftmax(x)
    for i in 0..<y.count { y.scalars[i] = Foundation.exp(y.scalars[i]) }
    return y
}

/// Log-softmax over the last axis of a matrix [rows, classes], computed stably.
public func logSoftmax(_ x: Tensor) -> Tensor {
    precondition(x.rank == 2, "logSoftmax: needs [rows, classes], got \(x.shape)")
    let (rows, k) = (x.shape[0], x.shape[1])
    var y = x
    for r in 0..<rows {
        let row = (r * k)..<((r + 1) * k)
        let m = x.scalars[row].max() ?? 0
        var s: Float = 0
        for i in row { s += Foundation.exp(x.scalars[i] - m) }
        let lse = m + Foundation.log(s)
        for i in row { y.scalars[i] = x.scalars[i] - lse }
    }
    return y
}

/// Taped softmax over the last axis: dx = y ⊙ (dy − ⟨dy, y⟩) per row.
public func softmax(_ x: Variable) -> Variable {
    let y = softmax(x.value)
    return .result(y, parents: [x]) { dy in
        let k = y.shape[1]
        var dx = dy
        for r in 0..<y.shape[0] {
            let row = (r * k)..<((r + 1) * k)
            var dot: Float = 0
            for i in row { dot += dy.scalars[i] * y.scalars[i] }
            for i in row { dx.scalars[i] = y.scalars[i] * (dy.scalars[i] - dot) }
        }
        return [dx]
    }
}

/// Taped log-softmax over the last axis: dx = dy − softmax(x) · Σ dy per row.
public func logSoftmax(_ x: Variable) -> Variable {
    let y = logSoftmax(x.value)
    return .result(y, parents: [x]) { dy in
        let k = y.shape[1]
        var dx = dy
        for r in 0..<y.shape[0] {
            let row = (r * k)..<((r + 1) * k)
            var total: Float = 0
            for i in row { total += dy.scalars[i] }
            for i in row { dx.scalars[i] = dy.scalars[i] - Foundation.exp(y.scalars[i]) * total }
        }
        return [dx]
    }
}

/// Mean cross-entropy of `logits` [rows, classes] against class `labels`.
public func crossEntropy(_ logits: Tensor, labels: [Int]) -> Float {
    let logp = logSoftmax(logits)
    let k = logits.shape[1]
    precondition(labels.count == logits.shape[0], "crossEntropy: \(labels.count) labels for \(logits.shape[0]) rows")
    var s: Double = 0
    for (r, label) in labels.enumerated() {
        precondition(label >= 0 && label < k, "crossEntropy: label \(label) outside 0..<\(k)")
        s -= Double(logp.scalars[r * k + label])
    }
    return Float(s / Double(max(labels.count, 1)))
}

/// Taped mean cross-entropy: d logits = (softmax − onehot) / rows.
public func crossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
    let lv = logits.value
    return .result(Tensor(scalar: crossEntropy(lv, labels: labels)), parents: [logits]) { dy in
        var dx = softmax(lv)
        let k = lv.shape[1], scale = dy.scalars[0] / Float(labels.count)
        for (r, label) in labels.enumerated() { dx.scalars[r * k + label] -= 1 }
        return [dx.scaled(by: scale)]
    }
}

/// Mean squared error between tensors of one shape.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Float {
    precondition(prediction.shape == target.shape, "meanSquaredError: shapes \(prediction.shape) and \(target.shape) differ")
    var s: Double = 0
    for i in 0..<prediction.count { let d = Double(prediction.scalars[i] - target.scalars[i]); s += d * d }
    return Float(s / Double(max(prediction.count, 1)))
}

/// Taped mean squared error; gradients flow to both arguments.
public func meanSquaredError(_ prediction: Variable, _ target: Variable) -> Variable {
    let p = prediction.value, t = target.value
    return .result(Tensor(scalar: meanSquaredError(p, t)), parents: [prediction, target]) { dy in
        var d = p
        d.add(t, scaledBy: -1)
        d = d.scaled(by: 2 * dy.scalars[0] / Float(p.count))
        return [d, d.scaled(by: -1)]
    }
}
