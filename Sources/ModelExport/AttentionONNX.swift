import Autodiff
import Foundation

/// The deployed graph's causal self-attention as ONNX opset-13 nodes: rows [B·T, H·D] to heads
/// [B, H, T, D]; the rotary embedding on the first `rotary` dimensions of q's and k's heads as
/// x·cos ± (rotate-half x)·sin with constant tables [T, n/2] from position P on; a decoding step's
/// cached keys and values (constants [B, H, P, D]) before its own; scores q·kᵀ/√D (plus a constant
/// causal mask, −∞ above the diagonal, when T > 1), softmax, times v; back to rows.
struct AttentionONNX {
    let name: String
    let batch, length, heads, headSize, rotary: Int
    /// Cached keys (rotated) and values as rows [B·P, H·D], for a decoding step.
    var cache: (keys: Tensor, values: Tensor)? = nil

    /// Positions before the first new token.
    private var past: Int { cache.map { $0.keys.shape[0] / batch } ?? 0 }

    /// Value names of this node's constants.
    private func constant(_ what: String) -> String { "\(name)_\(what)" }

    /// Rows [B·P, H·D] as heads [B, H, P, D].
    private func headsOf(_ rows: Tensor) -> Tensor {
        let p = rows.shape[0] / batch, width = heads * headSize
        var out = Tensor(zeros: [batch, heads, p, headSize])
        for b in 0..<batch {
            for t in 0..<p {
                for h in 0..<heads {
                    for c in 0..<headSize { out.scalars[((b * heads + h) * p + t) * headSize + c] = rows.scalars[(b * p + t) * width + h * headSize + c] }
                }
            }
        }
        return out
    }

    /// The float constants: cos and sin tables, 1/√D, the mask, the caches.
    var constants: [(String, Tensor)] {
        let half = rotary / 2
        var cos = Tensor(zeros: [length, half]), sin = Tensor(zeros: [length, half])
        for t in 0..<length {
            for k in 0..<half {
                let angle = Double(past + t) * Foundation.pow(10_000, -2 * Double(k) / Double(rotary))
                cos.scalars[t * half + k] = Float(Foundation.cos(angle))
                sin.scalars[t * half + k] = Float(Foundation.sin(angle))
            }
        }
        var all = [(constant("cos"), cos), (constant("sin"), sin), (constant("scale"), Tensor(shape: [1], scalars: [1 / Float(headSize).squareRoot()]))]
        if length > 1 {
            var mask = Tensor(zeros: [length, length])
            for i in 0..<length { for j in (i + 1)..<max(length, i + 1) { mask.scalars[i * length + j] = -.infinity } }
            all.append((constant("mask"), mask))
        }
        if let cache { all += [(constant("past_keys"), headsOf(cache.keys)), (constant("past_values"), headsOf(cache.values))] }
        return all
    }

    /// The INT64 constants: the reshapes' shapes and the rotary slices' bounds.
    var integerConstants: [(String, [Int])] {
        [(constant("heads_shape"), [batch, length, heads, headSize]), (constant("rows_shape"), [batch * length, heads * headSize]),
         (constant("axis"), [3]), (constant("zero"), [0]), (constant("half"), [rotary / 2]), (constant("rotary"), [rotary]),
         (constant("end"), [headSize])]
    }

    func nodes(query: String, key: String, value: String, output: String) -> [ONNXModel.Step] {
        var steps: [ONNXModel.Step] = []
        func step(_ op: String, _ inputs: [String], _ out: String, _ attributes: [ONNXModel.Attribute] = []) -> String {
            steps.append(ONNXModel.Step(op: op, inputs: inputs, output: out, attributes: attributes))
            return out
        }
        /// Rows to heads [B, H, T, D].
        func heads(_ rows: String, _ tag: String) -> String {
            let split = step("Reshape", [rows, constant("heads_shape")], "\(name)_\(tag)_bthd")
            return step("Transpose", [split], "\(name)_\(tag)_bhtd", [.ints("perm", [0, 2, 1, 3])])
        }
        /// The rotary embedding on the first `rotary` dimensions of each head.
        func rotate(_ x: String, _ tag: String) -> String {
            guard rotary > 0 else { return x }
            func slice(_ start: String, _ end: String, _ part: String) -> String {
                step("Slice", [x, constant(start), constant(end), constant("axis")], "\(name)_\(tag)_\(part)")
            }
            let first = slice("zero", "half", "x1"), second = slice("half", "rotary", "x2")
            let c = constant("cos"), s = constant("sin")
            let turnedFirst = step("Sub", [step("Mul", [first, c], "\(name)_\(tag)_x1c"), step("Mul", [second, s], "\(name)_\(tag)_x2s")],
                                   "\(name)_\(tag)_r1")
            let turnedSecond = step("Add", [step("Mul", [second, c], "\(name)_\(tag)_x2c"), step("Mul", [first, s], "\(name)_\(tag)_x1s")],
                                    "\(name)_\(tag)_r2")
            let parts = [turnedFirst, turnedSecond] + (rotary < headSize ? [slice("rotary", "end", "rest")] : [])
            return step("Concat", parts, "\(name)_\(tag)_rotated", [.int("axis", 3)])
        }
        let q = rotate(heads(query, "q"), "q")
        var k = rotate(heads(key, "k"), "k"), v = heads(value, "v")
        if cache != nil {
            k = step("Concat", [constant("past_keys"), k], "\(name)_all_keys", [.int("axis", 2)])
            v = step("Concat", [constant("past_values"), v], "\(name)_all_values", [.int("axis", 2)])
        }
        let keysT = step("Transpose", [k], "\(name)_kT", [.ints("perm", [0, 1, 3, 2])])
        var scores = step("Mul", [step("MatMul", [q, keysT], "\(name)_qk"), constant("scale")], "\(name)_scores")
        if length > 1 { scores = step("Add", [scores, constant("mask")], "\(name)_masked") }
        let weights = step("Softmax", [scores], "\(name)_weights", [.int("axis", 3)])
        let attended = step("Transpose", [step("MatMul", [weights, v], "\(name)_bhtd")], "\(name)_bthd", [.ints("perm", [0, 2, 1, 3])])
        _ = step("Reshape", [attended, constant("rows_shape")], output)
        return steps
    }
}
