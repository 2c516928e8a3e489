import Autodiff

/// HW-GPT-Bench's GPT as its profiler built it (lit-gpt; `Devices/hwgpt/README.md`), taped, with
/// seeded weights: token embedding; per layer two layer norms feeding, in parallel residual form,
/// causal self-attention (64-dimensional heads, rotary embedding on 25 % of each head) and the
/// LLaMA-style MLP silu(fc₁x) · fc₂x → proj; a final layer norm; an untied LM head. The linear
/// layers carry biases when the architecture has them (`b1`); the layer norms always do.
public final class GPTNetwork {
    public let architecture: GPTArchitecture
    public let vocabulary: Int
    /// Dimensions of each head that the rotary embedding turns (25 % of 64).
    public static let rotaryDimensions = GPTArchitecture.headSize / 4
    /// The bound of the uniform weights: standard deviation 0.02.
    static let weightBound = Float(0.02 * 3.0.squareRoot())

    struct Layer {
        var attentionNorm: (scale: Variable, shift: Variable), mlpNorm: (scale: Variable, shift: Variable)
        /// Query, key, value and output projections (weight, optional bias).
        var query, key, value, output: (weight: Variable, bias: Variable?)
        var fc1, fc2, projection: (weight: Variable, bias: Variable?)
        let heads: Int
    }

    let tokenEmbedding: Variable
    var layers: [Layer]
    let finalNorm: (scale: Variable, shift: Variable)
    let head: Variable

    /// A network of `architecture` over `vocabulary` tokens with weights of GPT-2's standard
    /// deviation 0.02, drawn uniformly (a normal draw of the largest network's 160 M weights takes
    /// 4 s, a uniform one a tenth of that, and the values do not change the work timed), biases
    /// zero and layer norms the identity; seeded.
    public init(_ architecture: GPTArchitecture, vocabulary: Int = GPTCost.vocabulary, seed: UInt64) {
        self.architecture = architecture
        self.vocabulary = vocabulary
        var rng = SeededGenerator(seed: seed)
        let e = architecture.embedding, bias = architecture.bias
        func weight(_ outputs: Int, _ inputs: Int) -> Variable {
            Variable(.uniform(shape: [outputs, inputs], low: -Self.weightBound, high: Self.weightBound, using: &rng), requiresGrad: true)
        }
        func dense(_ outputs: Int, _ inputs: Int) -> (weight: Variable, bias: Variable?) {
            (weight(outputs, inputs), bias ? Variable(Tensor(zeros: [outputs]), requiresGrad: true) : nil)
        }
        func norm() -> (scale: Variable, shift: Variable) {
            (Variable(Tensor(repeating: 1, shape: [e]), requiresGrad: true), Variable(Tensor(zeros: [e]), requiresGrad: true))
        }
        tokenEmbedding = weight(vocabulary, e)
        layers = zip(architecture.heads, architecture.mlpRatios).map { heads, ratio in
            let width = GPTArchitecture.headSize * heads, hidden = ratio * e
            return Layer(attentionNorm: norm(), mlpNorm: norm(), query: dense(width, e), key: dense(width, e), value: dense(width, e),
                         output: dense(e, width), fc1: dense(hidden, e), fc2: dense(hidden, e), projection: dense(e, hidden), heads: heads)
        }
        finalNorm = norm()
        head = weight(vocabulary, e)
    }

    /// Every trainable tensor.
    public var parameters: [Variable] {
        var all = [tokenEmbedding]
        for l in layers {
            all += [l.attentionNorm.scale, l.attentionNorm.shift, l.mlpNorm.scale, l.mlpNorm.shift]
            for d in [l.query, l.key, l.value, l.output, l.fc1, l.fc2, l.projection] { all += [d.weight] + (d.bias.map { [$0] } ?? []) }
        }
        return all + [finalNorm.scale, finalNorm.shift, head]
    }

    /// Logits [B·T, vocabulary] of `tokens` (B sequences of equal length T; ids below the vocabulary), taped.
    public func logits(_ tokens: [[Int]]) -> Variable {
        let batch = tokens.count
        var x = embedding(tokenEmbedding, ids: tokens.flatMap { $0 })
        for l in layers {
            let a = layerNorm(x, scale: l.attentionNorm.scale, shift: l.attentionNorm.shift)
            func heads(_ d: (weight: Variable, bias: Variable?)) -> Variable {
                splitHeads(linear(a, weight: d.weight, bias: d.bias), batch: batch, heads: l.heads)
            }
            let q = rotaryEmbedding(heads(l.query), dimensions: Self.rotaryDimensions)
            let k = rotaryEmbedding(heads(l.key), dimensions: Self.rotaryDimensions)
            let attended = mergeHeads(causalAttention(q, k, heads(l.value)), heads: l.heads)
            let m = layerNorm(x, scale: l.mlpNorm.scale, shift: l.mlpNorm.shift)
            let gated = multiply(silu(linear(m, weight: l.fc1.weight, bias: l.fc1.bias)), linear(m, weight: l.fc2.weight, bias: l.fc2.bias))
            x = add([x, linear(attended, weight: l.output.weight, bias: l.output.bias),
                     linear(gated, weight: l.projection.weight, bias: l.projection.bias)])
        }
        return linear(layerNorm(x, scale: finalNorm.scale, shift: finalNorm.shift), weight: head, bias: nil)
    }

    /// The deployed network for `batch` sequences of `sequenceLength` tokens (the prefill): a
    /// tape-free graph of the same weights (sgemm for every projection and the head, attention
    /// without a mask). Input: token ids as floats
    /// [B, T]; output: logits [B·T, vocabulary].
    public func deployedGraph(batch: Int, sequenceLength: Int) -> InferenceGraph {
        prefill(batch: batch, sequenceLength: sequenceLength).graph
    }

    /// One decoding step after the cached positions of `caches` (one per layer, as `caches(after:)`
    /// or `randomCaches` give them): input the new token of each sequence as floats [B, 1];
    /// output its logits [B, vocabulary]. Each layer's new query attends to the P cached keys and
    /// values and to its own (`cachedSelfAttention`), so the work is that of one generated token.
    public func decodeGraph(caches: [KeyValueCache]) -> InferenceGraph {
        precondition(caches.count == layers.count, "decodeGraph: one cache per layer")
        let batch = caches[0].batch
        return build(batch: batch, inputLength: 1) { k, _ in
            .cachedSelfAttention(heads: layers[k].heads, rotaryDimensions: Self.rotaryDimensions, keys: caches[k].keys, values: caches[k].values)
        }.graph
    }

    /// The keys (rotated) and values each layer caches for `tokens` (B sequences of equal length):
    /// what decoding the next token reads.
    public func caches(after tokens: [[Int]]) -> [KeyValueCache] {
        let (batch, length) = (tokens.count, tokens[0].count)
        let (graph, kept) = prefill(batch: batch, sequenceLength: length)
        let values = graph.run(Tensor(shape: [batch, length], scalars: tokens.flatMap { $0.map(Float.init) }), keeping: kept).kept
        return layers.indices.map { k in
            KeyValueCache(batch: batch,
                          keys: rotaryEmbedding(rows: values[2 * k], sequenceLength: length, heads: layers[k].heads, dimensions: Self.rotaryDimensions),
                          values: values[2 * k + 1])
        }
    }

    /// Seeded caches of `length` positions for `batch` sequences: what profiling a decoding step
    /// needs (the values do not change the work).
    public func randomCaches(batch: Int, length: Int, seed: UInt64) -> [KeyValueCache] {
        var rng = SeededGenerator(seed: seed)
        return layers.map { l in
            let shape = [batch * length, GPTArchitecture.headSize * l.heads]
            return KeyValueCache(batch: batch, keys: .normal(shape: shape, standardDeviation: 1, using: &rng),
                                 values: .normal(shape: shape, standardDeviation: 1, using: &rng))
        }
    }

    /// The prefill graph and, per layer, the values of its key and value projections.
    private func prefill(batch: Int, sequenceLength: Int) -> (graph: InferenceGraph, kept: [Int]) {
        build(batch: batch, inputLength: sequenceLength) { k, _ in
            .causalSelfAttention(batch: batch, heads: layers[k].heads, rotaryDimensions: Self.rotaryDimensions)
        }
    }

    /// The deployed graph over an input [batch, inputLength] with each layer's attention operation
    /// from `attention` (layer, rows); keeps every layer's key and value projections.
    private func build(batch: Int, inputLength: Int, attention: (Int, Int) -> InferenceGraph.Operation) -> (graph: InferenceGraph, kept: [Int]) {
        var g = InferenceGraph(inputShape: [batch, inputLength])
        func dense(_ input: Int, _ d: (weight: Variable, bias: Variable?)) -> Int {
            g.add(.linear(weight: d.weight.value, bias: d.bias?.value), [input])
        }
        func norm(_ input: Int, _ n: (scale: Variable, shift: Variable)) -> Int {
            g.add(.layerNorm(scale: n.scale.value, shift: n.shift.value, epsilon: 1e-5), [input])
        }
        var x = g.add(.embedding(table: tokenEmbedding.value), [0])
        var projections: [Int] = []
        for (k, l) in layers.enumerated() {
            let a = norm(x, l.attentionNorm)
            let (query, key, value) = (dense(a, l.query), dense(a, l.key), dense(a, l.value))
            projections += [key, value]
            let attended = g.add(attention(k, batch * inputLength), [query, key, value])
            let m = norm(x, l.mlpNorm)
            let gated = g.add(.product, [g.add(.silu, [dense(m, l.fc1)]), dense(m, l.fc2)])
            x = g.add(.sum, [x, dense(attended, l.output), dense(gated, l.projection)])
        }
        let kept = g.finish(output: dense(norm(x, finalNorm), (head, nil)), keeping: projections)
        return (g, kept)
    }
}

/// A layer's key–value cache for decoding: rotated keys and values [B·P, H·D] of P positions.
public struct KeyValueCache: Sendable {
    public var batch: Int
    public var keys: Tensor
    public var values: Tensor

    public init(batch: Int, keys: Tensor, values: Tensor) {
        (self.batch, self.keys, self.values) = (batch, keys, values)
    }

    /// Cached positions per sequence.
    public var length: Int { keys.shape[0] / batch }
}
