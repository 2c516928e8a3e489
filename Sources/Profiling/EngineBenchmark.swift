import Foundation
import Autodiff
import DataFiles
import SearchSpaces

/// Measures the engine against OpenBLAS: single-thread sgemm GFLOP/s, and the batch-1 forward
/// latency of the 10 NB201 reference networks with each network's achieved GFLOP/s and its ratio
/// to the sgemm figure, all in one run.
public struct EngineBenchmark {
    public struct Configuration: Sendable {
        public var repeats = 30
        public var warmup = 5
        public var threads = 1
        public var sgemmSize = 1024
        public var shape = NB201NetworkShape.benchmark
        /// Official indices of the reference networks to time (empty: all ten).
        public var onlyIndices: Set<Int> = []
        public init() {}
    }

    public struct NetworkResult: Sendable {
        public var position: Int
        public var index: Int
        public var architecture: NB201Architecture
        public var cost: ArchitectureCost
        public var latency: SampleStatistics
        /// 2·MACs / median latency.
        public var gflops: Double
        /// gflops over the sgemm figure.
        public var ratioToSgemm: Double
    }

    public struct Report: Sendable {
        public var configuration: Configuration
        public var blas: OpenBLASCoreSelection.Status
        public var sgemmGflops: SampleStatistics
        public var networks: [NetworkResult]
    }

    public let configuration: Configuration
    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// The reference architectures (position, official index, architecture) shipped in Devices/nb201.
    public static func referenceArchitectures() throws -> [(position: Int, index: Int, architecture: NB201Architecture)] {
        let table = try CSVTable(contentsOf: ShippedData.path("Devices/nb201/reference_archs.csv"))
        let positions = try table.column("position"), indices = try table.column("arch_index")
        return try zip(zip(positions, indices), try table.column("arch_string")).map { pair, s in
            (Int(pair.0) ?? -1, Int(pair.1) ?? -1, try NB201Architecture(parsing: s))
        }
    }

    /// Runs the whole benchmark. Samples are taken round-robin: each round times one sgemm and one
    /// forward pass of every network, so drift in a shared machine's speed affects all alike.
    /// `progress` receives one line per finished round.
    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        OpenBLAS.setThreadCount(configuration.threads)
        let s = configuration.shape
        var rng = SeededGenerator(seed: 1)
        let input = Tensor.uniform(shape: [1, s.inputChannels, s.resolution, s.resolution], low: -1, high: 1, using: &rng)
        let n = configuration.sgemmSize
        let a = Tensor.uniform(shape: [n, n], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform(shape: [n, n], low: -1, high: 1, using: &rng)
        let sgemmFlops = 2 * Double(n) * Double(n) * Double(n)

        let references = try Self.referenceArchitectures().filter {
            configuration.onlyIndices.isEmpty || configuration.onlyIndices.contains($0.index)
        }
        let networks = references.map { NB201Network($0.architecture, shape: s, seed: 1) }
        for _ in 0..<configuration.warmup {
            _ = matmul(a, b)
            for network in networks { _ = network.infer(input) }
        }
        var sgemmSamples: [Double] = []
        var latencies = [[Double]](repeating: [], count: networks.count)
        for round in 0..<configuration.repeats {
            sgemmSamples.append(sgemmFlops / (Stopwatch.milliseconds(repeats: 1, warmup: 0) { _ = matmul(a, b) }[0] * 1e6))
            for (k, network) in networks.enumerated() {
                latencies[k].append(Stopwatch.milliseconds(repeats: 1, warmup: 0) { _ = network.infer(input) }[0])
            }
            progress("round \(round + 1)/\(configuration.repeats)")
        }
        let sgemm = SampleStatistics(sgemmSamples)
        let results = zip(references, latencies).map { ref, times in
            let latency = SampleStatistics(times)
            let cost = ArchitectureCost(ref.architecture, shape: s)
            let gflops = Double(cost.floatingPointOperations) / (latency.median * 1e6)
            return NetworkResult(position: ref.position, index: ref.index, architecture: ref.architecture, cost: cost,
                                 latency: latency, gflops: gflops, ratioToSgemm: gflops / sgemm.median)
        }
        return Report(configuration: configuration, blas: OpenBLASCoreSelection.status, sgemmGflops: sgemm, networks: results)
    }
}

extension EngineBenchmark.Report {
    /// The report as a plain-text table.
    public var table: String {
        let c = configuration
        var lines = [
            "Engine benchmark: \(c.threads) thread(s), batch 1, \(c.shape), \(c.repeats) rounds after \(c.warmup) warm-up;",
            "each round times one sgemm and one forward pass of every network (interleaved against machine drift)",
            "OpenBLAS core: \(blas.summary)",
            "sgemm \(c.sgemmSize)×\(c.sgemmSize)×\(c.sgemmSize): median \(format(sgemmGflops.median)) GFLOP/s (p10 \(format(sgemmGflops.p10)), p90 \(format(sgemmGflops.p90)))",
            "",
            "pos  index   MFLOPs  params   median ms  p10 ms   p90 ms   CV     GFLOP/s  ÷ sgemm",
        ]
        for r in networks {
            lines.append([
                String(r.position).leftPadded(3), String(r.index).leftPadded(6),
                format(Double(r.cost.floatingPointOperations) / 1e6, digits: 1).leftPadded(8),
                String(r.cost.parameters).leftPadded(8),
                format(r.latency.median, digits: 3).leftPadded(10), format(r.latency.p10, digits: 3).leftPadded(8),
                format(r.latency.p90, digits: 3).leftPadded(8), (r.latency.coefficientOfVariation.map { format($0, digits: 3) } ?? "—").leftPadded(6),
                format(r.gflops).leftPadded(8), (format(100 * r.ratioToSgemm, digits: 1) + " %").leftPadded(8),
            ].joined(separator: " "))
        }
        lines.append("")
        lines.append("MFLOPs count 2 per multiply–accumulate of the convolutions and classifier (NAS-Bench-201's FLOPs × 2).")
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
