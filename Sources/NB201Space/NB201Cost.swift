import SpaceCore

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
