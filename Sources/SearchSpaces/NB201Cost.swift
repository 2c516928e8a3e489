/// Multiply–accumulate and parameter counts of an NB201 network, counted as NAS-Bench-201
/// reports FLOPs and parameters: MACs of the convolutions and the classifier; parameters are all
/// trainable scalars (conv weights, BN scale and shift, classifier weight and bias).
public struct NB201Cost: Equatable, Sendable {
    public var multiplyAccumulates = 0
    public var parameters = 0

    /// Floating-point operations (2 per multiply–accumulate), the unit of GFLOP/s figures.
    public var floatingPointOperations: Int { 2 * multiplyAccumulates }

    /// The cost of `architecture` built with `shape`.
    public init(_ architecture: NB201Architecture, shape: NB201NetworkShape = .benchmark) {
        var side = shape.resolution, width = shape.channels
        addConv(shape.inputChannels, width, kernel: 3, outSide: side, normalized: true)     // stem
        for stage in 0..<3 {
            if stage > 0 {
                let half = (side - 1) / 2 + 1
                addConv(width, 2 * width, kernel: 3, outSide: half, normalized: true)
                addConv(2 * width, 2 * width, kernel: 3, outSide: half, normalized: true)
                addConv(width, 2 * width, kernel: 1, outSide: side / 2, normalized: false)  // shortcut
                (side, width) = (half, 2 * width)
            }
            for _ in 0..<shape.cellsPerStage {
                for op in architecture.operations {
                    switch op {
                    case .conv1x1: addConv(width, width, kernel: 1, outSide: side, normalized: true)
                    case .conv3x3: addConv(width, width, kernel: 3, outSide: side, normalized: true)
                    case .none, .skipConnect, .averagePool3x3: break
                    }
                }
            }
        }
        parameters += 2 * width                                            // last BN
        multiplyAccumulates += width * shape.classes                       // classifier
        parameters += width * shape.classes + shape.classes
    }

    private mutating func addConv(_ inC: Int, _ outC: Int, kernel k: Int, outSide: Int, normalized: Bool) {
        multiplyAccumulates += inC * outC * k * k * outSide * outSide
        parameters += inC * outC * k * k + (normalized ? 2 * outC : 0)
    }
}
