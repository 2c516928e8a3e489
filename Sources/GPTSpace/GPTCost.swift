/// Parameters and multiply–accumulates of a GPT architecture as HW-GPT-Bench profiled it
/// (`Devices/hwgpt/README.md`): token embedding and an untied LM head (vocabulary 50,254), per
/// layer two layer norms, the query/key/value and output projections (64 · heads wide) and the
/// LLaMA-style MLP (three matrices, ratio · embedding wide), a final layer norm, and the linear
/// layers' biases when the architecture has them.
public struct GPTCost: Equatable, Sendable {
    public static let vocabulary = 50_254

    /// Trainable scalars, as DeepSpeed's FlopsProfiler counted them for the table.
    public let parameters: Int
    /// Multiply–accumulates of the linear layers and the LM head for `tokens` tokens: what the
    /// table's FLOPs count (2 per MAC plus element-wise operations).
    public let linearMultiplyAccumulates: Int
    /// Multiply–accumulates of the attention products QKᵀ and AV over full T × T score matrices
    /// (a causal kernel may skip half); the table's profiler does not count them.
    public let attentionMultiplyAccumulates: Int
    let embedding: Int, vocabulary: Int

    /// The cost of one forward pass over `batch` sequences of `sequenceLength` tokens, with a
    /// vocabulary of `vocabulary` tokens (HW-GPT-Bench's by default).
    public init(_ a: GPTArchitecture, batch: Int = 1, sequenceLength: Int = 1, vocabulary v: Int = Self.vocabulary) {
        let e = a.embedding, l = a.layers
        (embedding, vocabulary) = (e, v)
        let heads = a.heads.reduce(0, +), ratios = a.mlpRatios.reduce(0, +)
        let width = GPTArchitecture.headSize * heads              // Σ attention widths
        let perToken = e * v + 4 * e * width + 3 * e * e * ratios  // LM head, qkv + output projections, MLP
        parameters = 2 * e * v + 4 * e * width + 3 * e * e * ratios + 4 * e * l + 2 * e
            + (a.bias ? 2 * e * l + 3 * width + 2 * e * ratios : 0)
        linearMultiplyAccumulates = batch * sequenceLength * perToken
        attentionMultiplyAccumulates = batch * 2 * sequenceLength * sequenceLength * width
    }

    /// The token embedding's and the LM head's scalars (2 · embedding · vocabulary).
    public var embeddingParameters: Int { 2 * embedding * vocabulary }
    /// The decoder's own scalars: all but the embedding and the head (LiteTransformerSearch's
    /// training-free proxy of a decoder's perplexity; Javaheripi et al., NeurIPS 2022).
    public var nonEmbeddingParameters: Int { parameters - embeddingParameters }

    /// Floating-point operations of the linear layers and the LM head (2 per multiply–accumulate).
    public var linearFloatingPointOperations: Int { 2 * linearMultiplyAccumulates }
}
