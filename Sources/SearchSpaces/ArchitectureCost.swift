/// Multiply–accumulate and parameter counts of a network: MACs of the convolutions and linear
/// layers; parameters are all trainable scalars (weights, biases, BN scale and shift).
public struct ArchitectureCost: Equatable, Sendable {
    public var multiplyAccumulates = 0
    public var parameters = 0

    public init(multiplyAccumulates: Int = 0, parameters: Int = 0) {
        self.multiplyAccumulates = multiplyAccumulates
        self.parameters = parameters
    }

    /// Floating-point operations (2 per multiply–accumulate), the unit of GFLOP/s figures.
    public var floatingPointOperations: Int { 2 * multiplyAccumulates }

    /// Adds a convolution (dense when `groups` is 1, depthwise when it equals the channels).
    public mutating func addConvolution(_ inC: Int, _ outC: Int, kernel k: Int, outSide: Int, groups: Int = 1,
                                        bias: Bool = false, normalized: Bool) {
        multiplyAccumulates += inC / groups * outC * k * k * outSide * outSide
        parameters += inC / groups * outC * k * k + (bias ? outC : 0) + (normalized ? 2 * outC : 0)
    }

    /// Adds a fully connected layer.
    public mutating func addLinear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool) {
        multiplyAccumulates += inFeatures * outFeatures
        parameters += inFeatures * outFeatures + (bias ? outFeatures : 0)
    }
}

extension ArchitectureCost {
    /// The cost of an NB201 `architecture` built with `shape`, counted as NAS-Bench-201 reports
    /// FLOPs and parameters.
    public init(_ architecture: NB201Architecture, shape: NB201NetworkShape = .benchmark) {
        self.init()
        var side = shape.resolution, width = shape.channels
        addConvolution(shape.inputChannels, width, kernel: 3, outSide: side, normalized: true)     // stem
        for stage in 0..<3 {
            if stage > 0 {
                let half = (side - 1) / 2 + 1
                addConvolution(width, 2 * width, kernel: 3, outSide: half, normalized: true)
                addConvolution(2 * width, 2 * width, kernel: 3, outSide: half, normalized: true)
                addConvolution(width, 2 * width, kernel: 1, outSide: side / 2, normalized: false)  // shortcut
                (side, width) = (half, 2 * width)
            }
            for _ in 0..<shape.cellsPerStage {
                for op in architecture.operations {
                    switch op {
                    case .conv1x1: addConvolution(width, width, kernel: 1, outSide: side, normalized: true)
                    case .conv3x3: addConvolution(width, width, kernel: 3, outSide: side, normalized: true)
                    case .none, .skipConnect, .averagePool3x3: break
                    }
                }
            }
        }
        parameters += 2 * width                                            // last BN
        addLinear(width, shape.classes, bias: true)                        // classifier
    }
}
