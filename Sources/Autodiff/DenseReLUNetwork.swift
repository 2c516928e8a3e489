/// A fixed fully connected network, y = W·x + b per layer with ReLU between layers (none after the
/// last): the form benchmarks ship their predictors in (OFA's accuracy predictor, HW-GPT-Bench's
/// perplexity predictor). Taped, so an objective built on it is differentiable in its input.
public struct DenseReLUNetwork: Sendable {
    /// Weights [out, in] and biases [out] of each layer.
    let layers: [(weight: Tensor, bias: Tensor)]

    /// A network of the layer `widths` (input first) from weights stored out × in; nil with the
    /// reason when a layer's shape differs or a value is not finite.
    public init(widths: [Int], weights: [[[Float]]], biases: [[Float]]) throws {
        guard weights.count == widths.count - 1, biases.count == weights.count else {
            throw DenseReLUNetworkError("\(weights.count) layers, expected \(widths.count - 1)")
        }
        layers = try weights.indices.map { k in
            let (inputs, outputs) = (widths[k], widths[k + 1]), weight = weights[k], bias = biases[k]
            guard weight.count == outputs, weight.allSatisfy({ $0.count == inputs }), bias.count == outputs,
                  weight.joined().allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
                throw DenseReLUNetworkError("layer \(k) is not \(outputs) × \(inputs) finite weights with \(outputs) biases")
            }
            return (Tensor(shape: [outputs, inputs], scalars: Array(weight.joined())), Tensor(shape: [outputs], scalars: bias))
        }
    }

    /// The outputs of inputs [n, widths[0]], taped.
    public func callAsFunction(_ input: Variable) -> Variable {
        var h = input
        for (k, layer) in layers.enumerated() {
            h = linear(h, weight: Variable(layer.weight), bias: Variable(layer.bias))
            if k < layers.count - 1 { h = relu(h) }
        }
        return h
    }
}

/// Why stored weights do not make the network asked for.
public struct DenseReLUNetworkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
