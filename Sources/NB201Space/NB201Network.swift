import Autodiff
import SpaceCore

/// The shape of an NB201 network in the CIFAR layout.
public struct NB201NetworkShape: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Channels of the first stage (C); the stages have C, 2C and 4C.
    public var channels: Int
    /// Cells per stage (N).
    public var cellsPerStage: Int
    /// Input height and width.
    public var resolution: Int
    public var inputChannels: Int
    public var classes: Int

    /// The benchmark setting: C=16, N=5, 32×32×3 input, 10 classes.
    public static let benchmark = NB201NetworkShape()

    public init(channels: Int = 16, cellsPerStage: Int = 5, resolution: Int = 32, inputChannels: Int = 3, classes: Int = 10) {
        self.channels = channels
        self.cellsPerStage = cellsPerStage
        self.resolution = resolution
        self.inputChannels = inputChannels
        self.classes = classes
    }

    public var description: String {
        "C=\(channels) N=\(cellsPerStage) \(resolution)×\(resolution)×\(inputChannels) classes=\(classes)"
    }
}

/// ReLU → convolution (no bias) → batch norm, the conv op of NB201 edges and reduction blocks.
/// The ReLU is applied by the caller, so one activation serves every conv edge leaving a node.
final class ConvBN {
    let conv: Conv2D
    let norm: BatchNorm2D

    init(_ inC: Int, _ outC: Int, kernel: Int, stride: Int = 1, affine: Bool, using rng: inout SeededGenerator) {
        conv = Conv2D(inChannels: inC, outChannels: outC, kernelSize: kernel, stride: stride,
                      padding: kernel / 2, using: &rng)
        norm = BatchNorm2D(channels: outC, affine: affine)
    }

    var parameters: [Variable] { conv.parameters + norm.parameters }

    func callAsFunction(_ activated: Variable, normalization: NormalizationMode) -> Variable {
        norm(conv(activated), normalization)
    }
}

/// One NB201 cell with fixed operations; `none` edges build and run nothing.
final class NB201Cell {
    let architecture: NB201Architecture
    /// The conv module of each edge (nil for non-conv operations).
    let convs: [ConvBN?]
    /// Stacked weights of the tape-free path, by first weight, with the versions they were built from.
    private var stackedWeights: [ObjectIdentifier: (versions: [Int], weight: Tensor)] = [:]

    init(_ architecture: NB201Architecture, channels: Int, using rng: inout SeededGenerator) {
        self.architecture = architecture
        convs = architecture.operations.map { op in
            switch op {
            case .conv1x1: return ConvBN(channels, channels, kernel: 1, affine: true, using: &rng)
            case .conv3x3: return ConvBN(channels, channels, kernel: 3, affine: true, using: &rng)
            default: return nil
            }
        }
    }

    var parameters: [Variable] { convs.flatMap { $0?.parameters ?? [] } }

    /// Runs the cell node by node. Conv edges leaving one node share its ReLU, and those with the
    /// same kernel size share one im2col and one sgemm (their weights stacked along the output
    /// channels); each edge then normalises its own channel slice.
    func callAsFunction(_ x: Variable, normalization: NormalizationMode) -> Variable {
        var nodes = [x]
        var incoming: [[Variable]] = [[], [], [], []]
        for source in 0..<3 {
            if source > 0 { nodes.append(sum(incoming[source], like: x)) }
            let input = nodes[source]
            let outgoing = NB201Architecture.edges.indices.filter { NB201Architecture.edges[$0].source == source }
            var activated: Variable?
            for kernelEdges in [outgoing.filter { architecture.operations[$0] == .conv1x1 },
                                outgoing.filter { architecture.operations[$0] == .conv3x3 }] where !kernelEdges.isEmpty {
                let a = activated ?? relu(input)
                activated = a
                for (e, output) in zip(kernelEdges, sharedConvolution(a, edges: kernelEdges, normalization: normalization)) {
                    incoming[NB201Architecture.edges[e].target].append(output)
                }
            }
            for e in outgoing {
                let target = NB201Architecture.edges[e].target
                switch architecture.operations[e] {
                case .skipConnect: incoming[target].append(input)
                case .averagePool3x3: incoming[target].append(averagePool3x3(input))
                case .none, .conv1x1, .conv3x3: break
                }
            }
        }
        return sum(incoming[3], like: x)
    }

    /// The conv-BN outputs of `edges` (same source, same kernel size) from one stacked convolution.
    private func sharedConvolution(_ activated: Variable, edges: [Int], normalization: NormalizationMode) -> [Variable] {
        let modules = edges.map { convs[$0]! }
        if modules.count == 1 { return [modules[0](activated, normalization: normalization)] }
        let c = modules[0].conv.weight.shape[0]
        let stacked = conv2d(activated, weight: stackedWeight(modules.map(\.conv.weight)),
                             stride: 1, padding: modules[0].conv.padding)
        return modules.enumerated().map { k, module in
            module.norm(sliceChannels(stacked, (k * c)..<((k + 1) * c)), normalization)
        }
    }

    /// Weights stacked along the output channels: taped while recording, otherwise reused for as
    /// long as none of the weights has been written since it was stacked.
    private func stackedWeight(_ weights: [Variable]) -> Variable {
        if isRecordingTape && weights.contains(where: \.requiresGrad) { return concatenateRows(weights) }
        let key = ObjectIdentifier(weights[0]), versions = weights.map(\.version)
        if let cached = stackedWeights[key], cached.versions == versions { return Variable(cached.weight) }
        let weight = concatenateRows(weights.map(\.value))
        stackedWeights[key] = (versions, weight)
        return Variable(weight)
    }

    /// The sum of a node's inputs; a node without live inputs is zero, as NB201's `none` makes it.
    private func sum(_ terms: [Variable], like x: Variable) -> Variable {
        terms.isEmpty ? Variable(Tensor(zeros: x.shape)) : add(terms)
    }
}

/// NB201's residual reduction block: two ReLU-conv3×3-BN (the first with stride 2) plus a
/// shortcut of 2×2 average pooling and a 1×1 convolution; doubles the channels.
final class ResidualReduction {
    let first: ConvBN, second: ConvBN
    let shortcut: Conv2D

    init(_ inC: Int, _ outC: Int, using rng: inout SeededGenerator) {
        first = ConvBN(inC, outC, kernel: 3, stride: 2, affine: true, using: &rng)
        second = ConvBN(outC, outC, kernel: 3, affine: true, using: &rng)
        shortcut = Conv2D(inChannels: inC, outChannels: outC, kernelSize: 1, using: &rng)
    }

    var parameters: [Variable] { first.parameters + second.parameters + shortcut.parameters }

    func callAsFunction(_ x: Variable, normalization: NormalizationMode) -> Variable {
        let h = second(relu(first(relu(x), normalization: normalization)), normalization: normalization)
        return h + shortcut(averagePool2x2(x))
    }
}

/// An NB201 network in the CIFAR layout: stem, three stages of N cells separated by residual
/// reductions, BN + ReLU, global average pooling and a linear classifier. All cells share one
/// architecture.
public final class NB201Network: TrainableNetwork {
    public let architecture: NB201Architecture
    public let shape: NB201NetworkShape
    let stem: Conv2D, stemNorm: BatchNorm2D
    let stages: [[NB201Cell]]
    let reductions: [ResidualReduction]
    let lastNorm: BatchNorm2D
    let classifier: Linear

    /// Builds the network with He-initialised weights drawn from `seed`.
    public init(_ architecture: NB201Architecture, shape: NB201NetworkShape = .benchmark, seed: UInt64 = 0) {
        precondition(shape.channels > 0 && shape.cellsPerStage >= 0 && shape.resolution >= 4 && shape.classes > 0,
                     "NB201Network: invalid shape \(shape)")
        var rng = SeededGenerator(seed: seed)
        self.architecture = architecture
        self.shape = shape
        let c = shape.channels
        stem = Conv2D(inChannels: shape.inputChannels, outChannels: c, kernelSize: 3, padding: 1, using: &rng)
        stemNorm = BatchNorm2D(channels: c)
        stages = [c, 2 * c, 4 * c].map { width in
            (0..<shape.cellsPerStage).map { _ in NB201Cell(architecture, channels: width, using: &rng) }
        }
        reductions = [ResidualReduction(c, 2 * c, using: &rng), ResidualReduction(2 * c, 4 * c, using: &rng)]
        lastNorm = BatchNorm2D(channels: 4 * c)
        classifier = Linear(inFeatures: 4 * c, outFeatures: shape.classes, using: &rng)
    }

    /// Every trainable parameter.
    public var parameters: [Variable] {
        stem.parameters + stemNorm.parameters + stages.flatMap { $0.flatMap(\.parameters) }
            + reductions.flatMap(\.parameters) + lastNorm.parameters + classifier.parameters
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The convolution and linear weights (no biases, no batch-norm parameters).
    public var weights: [Variable] {
        [stem.weight] + stages.flatMap { $0.flatMap { $0.convs.compactMap { $0?.conv.weight } } }
            + reductions.flatMap { [$0.first.conv.weight, $0.second.conv.weight, $0.shortcut.weight] } + [classifier.weight]
    }

    /// Logits [batch, classes] for images [batch, inputChannels, resolution, resolution].
    /// Training uses batch statistics in every BN; otherwise running statistics.
    public func callAsFunction(_ images: Variable, training: Bool) -> Variable {
        forward(images, normalization: training ? .batch : .running)
    }

    public func forward(_ images: Variable, normalization: NormalizationMode, afterBlock: (Variable) -> Variable = { $0 }) -> Variable {
        precondition(images.shape.count == 4 && images.shape[1] == shape.inputChannels
                     && images.shape[2] == shape.resolution && images.shape[3] == shape.resolution,
                     "NB201Network expects [batch, \(shape.inputChannels), \(shape.resolution), \(shape.resolution)], got \(images.shape)")
        var h = afterBlock(stemNorm(stem(images), normalization))
        for (s, cells) in stages.enumerated() {
            if s > 0 { h = afterBlock(reductions[s - 1](h, normalization: normalization)) }
            for cell in cells { h = afterBlock(cell(h, normalization: normalization)) }
        }
        h = relu(lastNorm(h, normalization))
        return classifier(globalAveragePool(h))
    }

    /// Inference: logits with running statistics, recording no tape.
    public func infer(_ images: Tensor) -> Tensor {
        withoutTape { self(Variable(images), training: false).value }
    }
}

/// The NB201 weight-sharing supernet: every operation of every edge holds its own weights, and a
/// forward pass runs only the operation a one-hot sample D [6, 5] selects on each edge, scaled by
/// that entry of D so the loss reaches D (and through ReinMax the architecture logits). Convs in
/// cells use batch norm without affine parameters (MODNAS.md).
public final class NB201Supernet {
    public let shape: NB201NetworkShape
    let stem: Conv2D, stemNorm: BatchNorm2D
    /// Per stage, per cell, per edge: its convolutions.
    let cells: [[[SupernetEdge]]]
    let reductions: [ResidualReduction]
    let lastNorm: BatchNorm2D
    let classifier: Linear

    /// `sharedKernels`: each edge's 1×1 convolution is the centre taps of its 3×3 kernel.
    public init(shape: NB201NetworkShape, seed: UInt64 = 0, sharedKernels: Bool = false) {
        var rng = SeededGenerator(seed: seed)
        self.shape = shape
        let c = shape.channels
        stem = Conv2D(inChannels: shape.inputChannels, outChannels: c, kernelSize: 3, padding: 1, using: &rng)
        stemNorm = BatchNorm2D(channels: c)
        cells = [c, 2 * c, 4 * c].map { width in
            (0..<shape.cellsPerStage).map { _ in
                (0..<NB201Architecture.edgeCount).map { _ in
                    SupernetEdge(width: width, sharedKernels: sharedKernels, using: &rng)
                }
            }
        }
        reductions = [ResidualReduction(c, 2 * c, using: &rng), ResidualReduction(2 * c, 4 * c, using: &rng)]
        lastNorm = BatchNorm2D(channels: 4 * c)
        classifier = Linear(inFeatures: 4 * c, outFeatures: shape.classes, using: &rng)
    }

    /// Every trainable parameter, in a fixed order.
    public var parameters: [Variable] {
        stem.parameters + stemNorm.parameters + cells.flatMap { $0.flatMap { $0.flatMap { $0.parameters } } }
            + reductions.flatMap(\.parameters) + lastNorm.parameters + classifier.parameters
    }

    /// Logits for `images` through the architecture of the one-hot `sample` [6, 5]. Batch
    /// statistics are used in training and evaluation alike (running statistics of a shared
    /// supernet mix architectures).
    public func callAsFunction(_ images: Variable, sample: Variable) -> Variable {
        let ops = NB201Architecture.operationCount
        let chosen = (0..<NB201Architecture.edgeCount).map { e in
            (0..<ops).max { sample.value.scalars[e * ops + $0] < sample.value.scalars[e * ops + $1] }!
        }
        var h = stemNorm(stem(images), .batch)
        for (s, stage) in cells.enumerated() {
            if s > 0 { h = reductions[s - 1](h, normalization: .batch) }
            for edges in stage {
                var nodes = [h]
                for target in 1...3 {
                    var terms: [Variable] = []
                    for (e, edge) in NB201Architecture.edges.enumerated() where edge.target == target {
                        let x = nodes[edge.source]
                        let out: Variable?
                        switch NB201Operation(rawValue: chosen[e])! {
                        case .none: out = nil
                        case .skipConnect: out = x
                        case .averagePool3x3: out = averagePool3x3(x)
                        case .conv1x1: out = edges[e].conv1x1(relu(x))
                        case .conv3x3: out = edges[e].conv3x3(relu(x), normalization: .batch)
                        }
                        if let out { terms.append(scale(out, byEntry: e * ops + chosen[e], of: sample)) }
                    }
                    nodes.append(terms.isEmpty ? Variable(Tensor(zeros: h.shape)) : add(terms))
                }
                h = nodes[3]
            }
        }
        h = relu(lastNorm(h, .batch))
        return classifier(globalAveragePool(h))
    }
}

/// The convolutions of one supernet edge (batch norm without affine parameters, batch statistics).
final class SupernetEdge {
    /// The 1×1 convolution: the edge's own kernel, or the centre taps of its 3×3 kernel with a
    /// batch norm of its own (shared kernels, as in the original code's supernet: training either
    /// trains both).
    enum OneByOne {
        case own(ConvBN)
        case shared(norm: BatchNorm2D)
    }

    let conv3x3: ConvBN
    let oneByOne: OneByOne

    init(width: Int, sharedKernels: Bool, using rng: inout SeededGenerator) {
        if sharedKernels {
            conv3x3 = ConvBN(width, width, kernel: 3, affine: false, using: &rng)
            oneByOne = .shared(norm: BatchNorm2D(channels: width, affine: false))
        } else {
            // Drawn before the 3×3 kernel, as before shared kernels existed: the same weights per seed.
            let own = ConvBN(width, width, kernel: 1, affine: false, using: &rng)
            conv3x3 = ConvBN(width, width, kernel: 3, affine: false, using: &rng)
            oneByOne = .own(own)
        }
    }

    var parameters: [Variable] {
        switch oneByOne {
        case .own(let conv): return conv.parameters + conv3x3.parameters
        case .shared(let norm): return conv3x3.parameters + norm.parameters
        }
    }

    /// The 1×1 convolution of an activated input.
    func conv1x1(_ activated: Variable) -> Variable {
        switch oneByOne {
        case .own(let conv): return conv(activated, normalization: .batch)
        case .shared(let norm): return norm(conv2d(activated, weight: centreTaps(conv3x3.conv.weight)), .batch)
        }
    }
}
