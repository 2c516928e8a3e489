import Autodiff
import SpaceCore

/// The nonlinearity of a MobileNetV3 layer.
public enum MobileActivation: String, Sendable {
    case relu, hardSwish = "h_swish"

    func callAsFunction(_ x: Tensor) -> Tensor { self == .relu ? Autodiff.relu(x) : Autodiff.hardSwish(x) }
}

/// One inverted-residual block (MobileNetV2/V3): 1×1 expansion (skipped when `expanded` equals
/// `input`) → BN → act, k×k depthwise with `stride` → BN → act, optional squeeze-and-excitation,
/// 1×1 projection → BN; an identity shortcut when the stride is 1 and the widths match.
public struct InvertedResidualSpec: Equatable, Sendable {
    public var kernel: Int
    public var input: Int
    public var expanded: Int
    public var output: Int
    public var stride: Int
    public var squeezeExcitation: Bool
    public var activation: MobileActivation

    public init(kernel: Int, input: Int, expanded: Int, output: Int, stride: Int, squeezeExcitation: Bool,
                activation: MobileActivation) {
        self.kernel = kernel
        self.input = input
        self.expanded = expanded
        self.output = output
        self.stride = stride
        self.squeezeExcitation = squeezeExcitation
        self.activation = activation
    }

    public var hasExpansion: Bool { expanded != input }
    public var hasShortcut: Bool { stride == 1 && input == output }
    /// SE's reduced width: expanded / 4 made divisible by 8 (MobileNetV3 §5.3; OFA's SEModule).
    public var squeezedChannels: Int { makeDivisible(Double(expanded / 4), by: 8) }
}

/// `value` rounded to the nearest multiple of `divisor` (at least `divisor`), rounded up once
/// more when that loses over 10 % (the channel rule of the MobileNet family).
public func makeDivisible(_ value: Double, by divisor: Int) -> Int {
    var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

/// A whole MobileNetV3-style network: 3×3 stride-2 stem → BN → h-swish, the blocks, 1×1 final
/// expansion → BN → h-swish, global pooling, a feature-mix layer (no BN) → h-swish and the
/// classifier.
public struct MobileNetV3Layout: Equatable, Sendable {
    public var resolution: Int
    public var stemChannels: Int
    public var blocks: [InvertedResidualSpec]
    public var finalExpandChannels: Int
    public var featureChannels: Int
    /// Whether the feature-mix layer has a bias (torchvision's MobileNetV3 does, OFA's does not).
    public var featureBias: Bool
    public var classes: Int
    public var inputChannels = 3

    public init(resolution: Int, stemChannels: Int, blocks: [InvertedResidualSpec], finalExpandChannels: Int,
                featureChannels: Int, featureBias: Bool, classes: Int) {
        self.resolution = resolution
        self.stemChannels = stemChannels
        self.blocks = blocks
        self.finalExpandChannels = finalExpandChannels
        self.featureChannels = featureChannels
        self.featureBias = featureBias
        self.classes = classes
    }

    /// Output side of a "same"-padded convolution with `stride`.
    static func side(_ input: Int, stride: Int) -> Int { (input - 1) / stride + 1 }

    /// MACs of every convolution and linear layer (SE included); parameters of every weight,
    /// bias and BN scale and shift, as PyTorch counts trainable parameters.
    public var cost: ArchitectureCost {
        var cost = ArchitectureCost()
        var side = Self.side(resolution, stride: 2)
        cost.addConvolution(inputChannels, stemChannels, kernel: 3, outSide: side, normalized: true)
        for b in blocks {
            if b.hasExpansion { cost.addConvolution(b.input, b.expanded, kernel: 1, outSide: side, normalized: true) }
            side = Self.side(side, stride: b.stride)
            cost.addConvolution(b.expanded, b.expanded, kernel: b.kernel, outSide: side, groups: b.expanded, normalized: true)
            if b.squeezeExcitation {
                cost.addLinear(b.expanded, b.squeezedChannels, bias: true)
                cost.addLinear(b.squeezedChannels, b.expanded, bias: true)
            }
            cost.addConvolution(b.expanded, b.output, kernel: 1, outSide: side, normalized: true)
        }
        cost.addConvolution(blocks.last?.output ?? stemChannels, finalExpandChannels, kernel: 1, outSide: side, normalized: true)
        cost.addLinear(finalExpandChannels, featureChannels, bias: featureBias)
        cost.addLinear(featureChannels, classes, bias: true)
        return cost
    }
}

/// A MobileNetV3 network for inference with every batch norm folded into the convolution before
/// it. Weights are He-uniform and BN statistics random, both drawn from the seed: latency does
/// not depend on trained values, and folding non-trivial statistics keeps the fold honest.
public final class MobileNetV3Network: InferenceNetwork {
    /// A convolution with its batch norm folded in.
    struct FoldedConvolution {
        var weight: Tensor
        var bias: Tensor
        var stride: Int
        var depthwise: Bool

        init(_ inC: Int, _ outC: Int, kernel: Int, stride: Int = 1, depthwise: Bool = false, using rng: inout SeededGenerator) {
            let fanIn = Float((depthwise ? 1 : inC) * kernel * kernel), bound = (6 / fanIn).squareRoot()
            let w = Tensor.uniform(shape: [outC, depthwise ? 1 : inC, kernel, kernel], low: -bound, high: bound, using: &rng)
            var statistics = RunningStatistics(channels: outC)
            statistics.mean = (0..<outC).map { _ in rng.nextUniform() * 0.2 - 0.1 }
            statistics.variance = (0..<outC).map { _ in 0.5 + rng.nextUniform() }
            let folded = foldBatchNorm(weight: w, bias: nil, statistics: statistics, scale: nil, shift: nil)
            (weight, bias, self.stride, self.depthwise) = (folded.weight, folded.bias, stride, depthwise)
        }

        func callAsFunction(_ x: Tensor) -> Tensor {
            depthwise ? depthwiseConv2d(x, weight: weight, bias: bias, stride: stride)
                : conv2d(x, weight: weight, bias: bias, stride: stride, padding: weight.shape[2] / 2)
        }
    }

    struct Block {
        var spec: InvertedResidualSpec
        var expansion: FoldedConvolution?
        var depthwise: FoldedConvolution
        var squeeze: (reduce: Linear, expand: Linear)?
        var projection: FoldedConvolution

        func callAsFunction(_ x: Tensor) -> Tensor {
            let act = spec.activation
            var h = expansion.map { act($0(x)) } ?? x
            h = act(depthwise(h))
            if let (reduce, expand) = squeeze {
                h = scaleChannels(h, by: hardSigmoid(expand(relu(reduce(globalAveragePool(h))))))
            }
            h = projection(h)
            if spec.hasShortcut { h.add(x) }
            return h
        }
    }

    public let layout: MobileNetV3Layout
    let stem: FoldedConvolution
    let blocks: [Block]
    let finalExpansion: FoldedConvolution
    let featureMix: Linear
    let classifier: Linear

    public init(_ layout: MobileNetV3Layout, seed: UInt64 = 0) {
        var rng = SeededGenerator(seed: seed)
        self.layout = layout
        stem = FoldedConvolution(layout.inputChannels, layout.stemChannels, kernel: 3, stride: 2, using: &rng)
        blocks = layout.blocks.map { b in
            Block(spec: b,
                  expansion: b.hasExpansion ? FoldedConvolution(b.input, b.expanded, kernel: 1, using: &rng) : nil,
                  depthwise: FoldedConvolution(b.expanded, b.expanded, kernel: b.kernel, stride: b.stride, depthwise: true, using: &rng),
                  squeeze: b.squeezeExcitation
                      ? (Linear(inFeatures: b.expanded, outFeatures: b.squeezedChannels, using: &rng),
                         Linear(inFeatures: b.squeezedChannels, outFeatures: b.expanded, using: &rng)) : nil,
                  projection: FoldedConvolution(b.expanded, b.output, kernel: 1, using: &rng))
        }
        finalExpansion = FoldedConvolution(layout.blocks.last?.output ?? layout.stemChannels, layout.finalExpandChannels,
                                           kernel: 1, using: &rng)
        featureMix = Linear(inFeatures: layout.finalExpandChannels, outFeatures: layout.featureChannels,
                            bias: layout.featureBias, using: &rng)
        classifier = Linear(inFeatures: layout.featureChannels, outFeatures: layout.classes, using: &rng)
    }

    public func inputShape(batch: Int) -> [Int] { [batch, layout.inputChannels, layout.resolution, layout.resolution] }

    public func infer(_ images: Tensor) -> Tensor {
        precondition(images.shape.count == 4 && Array(images.shape.dropFirst()) == Array(inputShape(batch: 1).dropFirst()),
                     "MobileNetV3Network expects \(inputShape(batch: images.shape.first ?? 1)), got \(images.shape)")
        return withoutTape {
            var h = hardSwish(stem(images))
            for block in blocks { h = block(h) }
            h = hardSwish(finalExpansion(h))
            return classifier(hardSwish(featureMix(globalAveragePool(h))))
        }
    }
}

/// MobileNetV3 networks as deployed: the engine's network is already folded, so its graph is
/// the same layers in order (squeeze-and-excitation as pooling, two linear layers and a channel scale).
extension MobileNetV3Network: DeployableNetwork {
    public func inferenceGraph(batch: Int = 1) -> InferenceGraph {
        var g = InferenceGraph(inputShape: inputShape(batch: batch))
        func activation(_ a: MobileActivation, _ x: Int) -> Int { g.add(a == .relu ? .relu : .hardSwish, [x]) }
        func linear(_ layer: Linear, _ x: Int) -> Int {
            g.add(.linear(weight: layer.weight.value, bias: layer.bias?.value ?? Tensor(zeros: [layer.weight.shape[0]])), [x])
        }
        var h = g.add(.hardSwish, [g.add(stem.operation, [0])])
        for block in blocks {
            let x = h
            if let expansion = block.expansion { h = activation(block.spec.activation, g.add(expansion.operation, [h])) }
            h = activation(block.spec.activation, g.add(block.depthwise.operation, [h]))
            if let (reduce, expand) = block.squeeze {
                let factor = g.add(.hardSigmoid, [linear(expand, g.add(.relu, [linear(reduce, g.add(.globalAveragePool, [h]))]))])
                h = g.add(.scaleChannels, [h, factor])
            }
            h = g.add(block.projection.operation, [h])
            if block.spec.hasShortcut { h = g.add(.sum, [h, x]) }
        }
        h = g.add(.hardSwish, [g.add(finalExpansion.operation, [h])])
        let features = g.add(.hardSwish, [linear(featureMix, g.add(.globalAveragePool, [h]))])
        g.finish(output: linear(classifier, features))
        return g
    }
}

extension MobileNetV3Network.FoldedConvolution {
    var operation: InferenceGraph.Operation {
        depthwise ? .depthwiseConvolution(weight: weight, bias: bias, stride: stride)
            : .convolution(weight: weight, bias: bias, stride: stride, padding: weight.shape[2] / 2)
    }
}
