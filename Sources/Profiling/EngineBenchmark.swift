import Foundation
import Measurements
import Autodiff
import DataFiles
import SearchSpaces
import Statistics

/// Measures the engine against OpenBLAS: single-thread sgemm GFLOP/s, and the batch-1 forward
/// latency of a space's 10 reference networks with each network's achieved GFLOP/s and its ratio
/// to the sgemm figure, all in one run; for spaces with depthwise layers also the direct
/// depthwise kernel's GFLOP/s.
public struct EngineBenchmark {
    public struct Configuration: Sendable {
        public var repeats = 30
        public var warmup = 5
        public var threads = 1
        public var sgemmSize = 1024
        public var space = SpaceName.nb201
        /// The network shape's parameters (the space's defaults where unset).
        public var shape = NetworkShape()
        /// Official indices of the reference networks to time (empty: all ten).
        public var onlyIndices: Set<Int> = []
        public init() {}
    }

    public struct NetworkResult: Sendable {
        public var position: Int
        public var index: Int
        public var architecture: String
        /// The input's last dimension: the image side (OFA architectures carry their own
        /// resolution) or the tokens per sequence.
        public var inputSide: Int
        public var cost: ArchitectureCost
        public var latency: SampleStatistics
        /// 2·MACs / median latency.
        public var gflops: Double
        /// gflops over the sgemm figure.
        public var ratioToSgemm: Double
    }

    /// The depthwise kernel alone on one layer shape.
    public struct DepthwiseResult: Sendable {
        public var channels: Int
        public var side: Int
        public var kernel: Int
        public var stride: Int
        public var gflops: SampleStatistics
    }

    public struct Report: Sendable {
        public var configuration: Configuration
        public var spaceShape: [String]
        public var blas: OpenBLASCoreSelection.Status
        public var sgemmGflops: SampleStatistics
        public var networks: [NetworkResult]
        public var depthwise: [DepthwiseResult]
    }

    public let configuration: Configuration
    public init(configuration: Configuration = .init()) { self.configuration = configuration }


    /// Runs the whole benchmark. Samples are taken round-robin: each round times one sgemm and one
    /// forward pass of every network, so drift in a shared machine's speed affects all alike.
    /// `progress` receives one line per finished round.
    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        try run(try configuration.space.searchSpace(shape: configuration.shape), progress: progress)
    }

    private func run<S: SearchSpace>(_ space: S, progress: (String) -> Void) throws -> Report {
        OpenBLAS.setThreadCount(configuration.threads)
        var rng = SeededGenerator(seed: 1)
        let n = configuration.sgemmSize
        let a = Tensor.uniform(shape: [n, n], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform(shape: [n, n], low: -1, high: 1, using: &rng)
        let sgemmFlops = 2 * Double(n) * Double(n) * Double(n)

        let references = try space.referenceArchitectures().filter {
            configuration.onlyIndices.isEmpty || configuration.onlyIndices.contains($0.index)
        }
        let networks = references.map { space.makeNetwork($0.architecture, seed: 1) }
        let inputs = networks.map { $0.sampleInput(batch: 1, using: &rng) }
        let depthwiseCases = space.name == .ofa ? Self.depthwiseCases(using: &rng) : []
        for _ in 0..<configuration.warmup {
            _ = matmul(a, b)
            for (network, input) in zip(networks, inputs) { _ = network.infer(input) }
            for c in depthwiseCases { _ = depthwiseConv2d(c.input, weight: c.weight, stride: c.stride) }
        }
        var sgemmSamples: [Double] = []
        var latencies = [[Double]](repeating: [], count: networks.count)
        var depthwiseSamples = [[Double]](repeating: [], count: depthwiseCases.count)
        for round in 0..<configuration.repeats {
            sgemmSamples.append(sgemmFlops / (Stopwatch.milliseconds(repeats: 1, warmup: 0) { _ = matmul(a, b) }[0] * 1e6))
            for (k, network) in networks.enumerated() {
                latencies[k].append(Stopwatch.milliseconds(repeats: 1, warmup: 0) { _ = network.infer(inputs[k]) }[0])
            }
            for (k, c) in depthwiseCases.enumerated() {
                let ms = Stopwatch.milliseconds(repeats: 1, warmup: 0) { _ = depthwiseConv2d(c.input, weight: c.weight, stride: c.stride) }[0]
                depthwiseSamples[k].append(2 * Double(c.multiplyAccumulates) / (ms * 1e6))
            }
            progress("round \(round + 1)/\(configuration.repeats)")
        }
        let sgemm = SampleStatistics(sgemmSamples)
        let results = zip(zip(references, latencies), inputs).map { item, input in
            let (ref, times) = item
            let latency = SampleStatistics(times)
            let cost = space.cost(of: ref.architecture)
            let gflops = Double(cost.floatingPointOperations) / (latency.median * 1e6)
            return NetworkResult(position: ref.position, index: ref.index, architecture: space.string(of: ref.architecture),
                                 inputSide: input.shape.last!, cost: cost, latency: latency, gflops: gflops,
                                 ratioToSgemm: gflops / sgemm.median)
        }
        let depthwise = zip(depthwiseCases, depthwiseSamples).map { c, samples in
            DepthwiseResult(channels: c.input.shape[1], side: c.input.shape[2], kernel: c.weight.shape[2], stride: c.stride,
                            gflops: SampleStatistics(samples))
        }
        return Report(configuration: configuration, spaceShape: space.shapeDescription, blas: OpenBLASCoreSelection.status,
                      sgemmGflops: sgemm, networks: results, depthwise: depthwise)
    }

    /// Depthwise layers of the OFA space at 224: stage 1's expanded 96 channels at 112×112
    /// (stride 2) and stage 3's 288 channels at 28×28, each with kernels 3, 5 and 7.
    static func depthwiseCases(using rng: inout SeededGenerator) -> [(input: Tensor, weight: Tensor, stride: Int, multiplyAccumulates: Int)] {
        [(96, 112, 2), (288, 28, 1)].flatMap { channels, side, stride in
            [3, 5, 7].map { k in
                let input = Tensor.uniform(shape: [1, channels, side, side], low: -1, high: 1, using: &rng)
                let weight = Tensor.uniform(shape: [channels, 1, k, k], low: -1, high: 1, using: &rng)
                let out = (side - 1) / stride + 1
                return (input, weight, stride, depthwiseMultiplyAccumulates(batch: 1, channels: channels, outHeight: out, outWidth: out, kernel: k))
            }
        }
    }
}

extension EngineBenchmark.Report {
    /// The report as a plain-text table.
    public var table: String {
        let c = configuration
        var lines = [
            "Engine benchmark: space \(c.space) (\(spaceShape.joined(separator: ", "))), \(c.threads) thread(s), batch 1, \(c.repeats) rounds after \(c.warmup) warm-up;",
            "each round times one sgemm and one forward pass of every network (interleaved against machine drift)",
            "OpenBLAS core: \(blas.summary)",
            "sgemm \(c.sgemmSize)×\(c.sgemmSize)×\(c.sgemmSize): median \(format(sgemmGflops.median)) GFLOP/s (p10 \(format(sgemmGflops.p10)), p90 \(format(sgemmGflops.p90)))",
            "",
            "pos  index  input   MFLOPs   params   median ms  p10 ms   p90 ms   CV     GFLOP/s  ÷ sgemm",
        ]
        for r in networks {
            lines.append([
                String(r.position).leftPadded(3), String(r.index).leftPadded(6), String(r.inputSide).leftPadded(6),
                format(Double(r.cost.floatingPointOperations) / 1e6, digits: 1).leftPadded(8),
                String(r.cost.parameters).leftPadded(8),
                format(r.latency.median, digits: 3).leftPadded(10), format(r.latency.p10, digits: 3).leftPadded(8),
                format(r.latency.p90, digits: 3).leftPadded(8), (r.latency.coefficientOfVariation.map { format($0, digits: 3) } ?? "—").leftPadded(6),
                format(r.gflops).leftPadded(8), (format(100 * r.ratioToSgemm, digits: 1) + " %").leftPadded(8),
            ].joined(separator: " "))
        }
        if !depthwise.isEmpty {
            lines += ["", "direct depthwise kernel (batch 1, same padding):",
                      "channels  side  kernel  stride   median GFLOP/s  p10     p90     ÷ sgemm"]
            for d in depthwise {
                lines.append([String(d.channels).leftPadded(8), String(d.side).leftPadded(5), String(d.kernel).leftPadded(7),
                              String(d.stride).leftPadded(7), format(d.gflops.median).leftPadded(16), format(d.gflops.p10).leftPadded(7),
                              format(d.gflops.p90).leftPadded(7), (format(100 * d.gflops.median / sgemmGflops.median, digits: 1) + " %").leftPadded(8)]
                    .joined(separator: " "))
            }
        }
        lines.append("")
        lines.append(c.space == .nb201
            ? "MFLOPs count 2 per multiply–accumulate of the convolutions and classifier (NAS-Bench-201's FLOPs × 2)."
            : "MFLOPs count 2 per multiply–accumulate of every convolution, SE and linear layer; parameters as PyTorch counts them (BN folded at run time).")
        return lines.joined(separator: "\n")
    }
}

func format(_ x: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

extension String {
    /// The string right-aligned in `width` columns.
    public func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
