import Testing
@testable import Autodiff

/// One finite-difference test per op of the engine.
@Suite struct GradientTests {
    var rng = SeededGenerator(seed: 42)

    mutating func random(_ shape: [Int]) -> Tensor { .uniform(shape: shape, low: -1, high: 1, using: &rng) }

    @Test mutating func matmulGradient() {
        expectGradientsMatch([random([3, 4]), random([4, 5])]) { matmul($0[0], $0[1]) }
    }

    @Test mutating func linearGradient() {
        expectGradientsMatch([random([3, 6]), random([4, 6]), random([4])]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        expectGradientsMatch([random([2, 3]), random([5, 3])]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test(arguments: [
        (kernel: 3, stride: 1, padding: 1, batch: 2), (kernel: 1, stride: 1, padding: 0, batch: 2),
        (kernel: 3, stride: 2, padding: 1, batch: 2), (kernel: 1, stride: 1, padding: 0, batch: 1),
        (kernel: 2, stride: 1, padding: 0, batch: 1), (kernel: 5, stride: 2, padding: 2, batch: 1),
    ])
    func conv2dGradient(kernel: Int, stride: Int, padding: Int, batch: Int) {
        var rng = SeededGenerator(seed: UInt64(kernel * 100 + stride * 10 + padding))
        let x = Tensor.uniform(shape: [batch, 3, 6, 5], low: -1, high: 1, using: &rng)
        let w = Tensor.uniform(shape: [4, 3, kernel, kernel], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform(shape: [4], low: -1, high: 1, using: &rng)
        expectGradientsMatch([x, w, b], probes: 30) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding) }
        expectGradientsMatch([x, w]) { conv2d($0[0], weight: $0[1], stride: stride, padding: padding) }
    }

    @Test mutating func batchNormTrainingGradient() {
        let x = random([3, 4, 3, 2])
        expectGradientsMatch([x, random([4]), random([4])], tolerance: 3e-2) { v in
            var stats = RunningStatistics(channels: 4)
            return batchNorm(v[0], statistics: &stats, scale: v[1], shift: v[2], training: true)
        }
        expectGradientsMatch([x], tolerance: 3e-2) { v in
            var stats = RunningStatistics(channels: 4)
            return batchNorm(v[0], statistics: &stats, scale: nil, shift: nil, training: true)
        }
    }

    @Test mutating func batchNormInferenceGradient() {
        var stats = RunningStatistics(channels: 3)
        stats.mean = [0.5, -0.2, 0.1]
        stats.variance = [2.0, 0.5, 1.5]
        expectGradientsMatch([random([2, 3, 2, 2]), random([3]), random([3])]) { v in
            batchNorm(v[0], statistics: &stats, scale: v[1], shift: v[2], training: false)
        }
    }

    @Test mutating func reluGradient() {
        let x = awayFromZero([2, 3, 4], using: &rng)
        expectGradientsMatch([x]) { relu($0[0]) }
    }

    @Test mutating func scaleByEntryGradient() {
        expectGradientsMatch([random([2, 3, 4]), random([6, 5])]) { scale($0[0], byEntry: 7, of: $0[1]) }
    }

    @Test mutating func averagePool3x3Gradient() {
        expectGradientsMatch([random([2, 2, 5, 4])]) { averagePool3x3($0[0]) }
    }

    @Test mutating func averagePool2x2Gradient() {
        expectGradientsMatch([random([2, 2, 4, 6])]) { averagePool2x2($0[0]) }
        expectGradientsMatch([random([1, 1, 5, 5])]) { averagePool2x2($0[0]) }
    }

    @Test mutating func globalAveragePoolGradient() {
        expectGradientsMatch([random([2, 3, 4, 4])]) { globalAveragePool($0[0]) }
    }

    @Test mutating func addGradient() {
        expectGradientsMatch([random([2, 3]), random([2, 3]), random([2, 3])]) { add($0) }
        expectGradientsMatch([random([4])]) { $0[0] + $0[0] }
    }

    @Test mutating func scaleGradient() {
        expectGradientsMatch([random([3, 3])]) { scale($0[0], by: -2.5) }
    }

    @Test mutating func multiplySumReshapeGradient() {
        expectGradientsMatch([random([2, 3]), random([2, 3])]) { multiply($0[0], $0[1]) }
        expectGradientsMatch([random([2, 3])]) { sum($0[0]) }
        expectGradientsMatch([random([2, 6])]) { reshape($0[0], to: [3, 4]) }
    }

    @Test mutating func concatChannelsGradient() {
        expectGradientsMatch([random([2, 1, 2, 2]), random([2, 3, 2, 2])]) { concatChannels($0) }
    }

    @Test mutating func concatenateRowsGradient() {
        expectGradientsMatch([random([2, 3, 1, 1]), random([1, 3, 1, 1])]) { concatenateRows($0) }
    }

    @Test mutating func centreTapsGradient() {
        expectGradientsMatch([random([3, 2, 3, 3])]) { centreTaps($0[0]) }
        expectGradientsMatch([random([2, 2, 5, 3])]) { centreTaps($0[0]) }
        expectGradientsMatch([random([2, 3, 4, 4]), random([4, 3, 3, 3])]) {
            conv2d($0[0], weight: centreTaps($0[1]))
        }
    }

    @Test mutating func sliceChannelsGradient() {
        expectGradientsMatch([random([2, 5, 2, 2])]) { sliceChannels($0[0], 1..<4) }
        expectGradientsMatch([random([1, 3, 2, 1])]) { sliceChannels($0[0], 0..<3) }
    }

    @Test mutating func softmaxGradient() {
        expectGradientsMatch([random([3, 5])]) { softmax($0[0]) }
    }

    @Test mutating func logSoftmaxGradient() {
        expectGradientsMatch([random([3, 5]).scaled(by: 3)]) { logSoftmax($0[0]) }
    }

    @Test mutating func crossEntropyGradient() {
        expectGradientsMatch([random([4, 5]).scaled(by: 2)]) { crossEntropy($0[0], labels: [0, 4, 2, 2]) }
    }

    @Test mutating func meanSquaredErrorGradient() {
        expectGradientsMatch([random([3, 4]), random([3, 4])]) { meanSquaredError($0[0], $0[1]) }
    }

    /// A whole small network (conv → BN → ReLU → pool → linear → CE) checked end to end.
    @Test mutating func smallNetworkGradient() {
        let x = random([2, 2, 4, 4])
        expectGradientsMatch([x, random([3, 2, 3, 3]), random([3, 3])], tolerance: 4e-2) { v in
            var stats = RunningStatistics(channels: 3)
            let h = relu(batchNorm(conv2d(v[0], weight: v[1], padding: 1), statistics: &stats,
                                   scale: nil, shift: nil, training: true))
            return crossEntropy(linear(globalAveragePool(averagePool3x3(h)), weight: v[2], bias: nil), labels: [1, 2])
        }
    }
}
