// Layers holding trainable parameters; each is callable on variables (taped) and tensors (inference).

/// A module with trainable parameters.
public protocol ParameterizedLayer: AnyObject {
    /// Every trainable leaf of the layer.
    var parameters: [Variable] { get }
}

/// 2-D convolution layer with weight OIHW and an optional bias, initialised He-uniform.
public final class Conv2D: ParameterizedLayer {
    public let weight: Variable
    public let bias: Variable?
    public let stride: Int, padding: Int

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false, using rng: inout SeededGenerator) {
        let fanIn = Float(inChannels * kernelSize * kernelSize)
        let bound = (6 / fanIn).squareRoot()
        weight = Variable(.uniform(shape: [outChannels, inChannels, kernelSize, kernelSize],
                                   low: -bound, high: bound, using: &rng), requiresGrad: true)
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Variable] { [weight] + (bias.map { [$0] } ?? []) }

    public func callAsFunction(_ x: Variable) -> Variable {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}

/// Batch normalisation over channels, with optional affine scale γ and shift β.
public final class BatchNorm2D: ParameterizedLayer {
    public let scale: Variable?
    public let shift: Variable?
    public var statistics: RunningStatistics
    public let epsilon: Float

    public init(channels: Int, affine: Bool = true, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        scale = affine ? Variable(Tensor(repeating: 1, shape: [channels]), requiresGrad: true) : nil
        shift = affine ? Variable(Tensor(zeros: [channels]), requiresGrad: true) : nil
        statistics = RunningStatistics(channels: channels, momentum: momentum)
        self.epsilon = epsilon
    }

    public var parameters: [Variable] { [scale, shift].compactMap { $0 } }

    /// Batch statistics (and a running-average update) when training, running statistics otherwise.
    public func callAsFunction(_ x: Variable, training: Bool) -> Variable {
        batchNorm(x, statistics: &statistics, scale: scale, shift: shift, training: training, epsilon: epsilon)
    }

    /// Inference with the running statistics.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        batchNorm(x, statistics: statistics, scale: scale?.value, shift: shift?.value, epsilon: epsilon)
    }
}

/// Fully connected layer, weight [out, in] and bias [out], initialised uniform ±1/√in.
public final class Linear: ParameterizedLayer {
    public let weight: Variable
    public let bias: Variable?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, using rng: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Variable(.uniform(shape: [outFeatures, inFeatures], low: -bound, high: bound, using: &rng),
                          requiresGrad: true)
        self.bias = bias ? Variable(.uniform(shape: [outFeatures], low: -bound, high: bound, using: &rng),
                                    requiresGrad: true) : nil
    }

    public var parameters: [Variable] { [weight] + (bias.map { [$0] } ?? []) }

    public func callAsFunction(_ x: Variable) -> Variable { linear(x, weight: weight, bias: bias) }
    public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight.value, bias: bias?.value) }
}
