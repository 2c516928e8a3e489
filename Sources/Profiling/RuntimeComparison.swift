import Autodiff
import Foundation
import ModelExport
import SearchSpaces
import Statistics

/// The engine against ONNX Runtime on a space's 10 reference networks, in one run: each round
/// times every network in the engine as built (`infer`), in the engine as deployed (its
/// `InferenceGraph`: BN folded, dead branches removed) and in ONNX Runtime (the same graph
/// exported, in a worker process), so drift on a shared machine reaches all three alike.
public struct RuntimeComparison {
    public struct Configuration: Sendable {
        public var rounds = 10
        public var repeatsPerRound = 5
        public var warmup = 5
        public var threads = 1
        public var space = SpaceName.nb201
        /// The network shape's parameters (the space's defaults where unset).
        public var shape = NetworkShape()
        public init() {}
    }

    public struct Row: Sendable {
        public var position: Int
        public var index: Int
        public var architecture: String
        public var built: SampleStatistics
        public var deployed: SampleStatistics
        public var onnxRuntime: SampleStatistics
        /// Engine (deployed graph) median over ONNX Runtime's.
        public var ratio: Double { deployed.median / onnxRuntime.median }
    }

    public struct Report: Sendable {
        public var configuration: Configuration
        public var runtime: String
        public var rows: [Row]
        public var medianRatio: Double { SampleStatistics(rows.map(\.ratio)).median }
        public var medianBuiltRatio: Double { SampleStatistics(rows.map { $0.built.median / $0.onnxRuntime.median }).median }
        /// Rank agreement of the medians, deployed engine against ONNX Runtime (and the built network's).
        public var spearman: Double { RankCorrelation.spearman(rows.map(\.deployed.median), rows.map(\.onnxRuntime.median)) }
        public var builtSpearman: Double { RankCorrelation.spearman(rows.map(\.built.median), rows.map(\.onnxRuntime.median)) }
    }

    public let configuration: Configuration
    public init(configuration: Configuration) { self.configuration = configuration }

    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        try run(configuration.space.searchSpace(shape: configuration.shape), progress: progress)
    }

    private func run<S: SearchSpace>(_ space: S, progress: (String) -> Void) throws -> Report {
        let c = configuration
        OpenBLAS.setThreadCount(c.threads)
        let worker = try ONNXRuntimeWorker(threads: c.threads)
        defer { worker.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("modnas-compare-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let references = try space.referenceArchitectures()
        var rng = SeededGenerator(seed: 1)
        var cases: [(network: InferenceNetwork, graph: InferenceGraph, input: Tensor, model: String)] = []
        for (k, reference) in references.enumerated() {
            let network = space.makeNetwork(reference.architecture, seed: 1)
            let graph = NetworkExport.graph(reference.architecture, space: space, seed: 1, batch: 1)
            let model = dir + "/\(k).onnx"
            try ONNXModel.write(graph, graphName: "reference-\(reference.index)", docString: space.string(of: reference.architecture), to: model)
            cases.append((network, graph, network.sampleInput(batch: 1, using: &rng), model))
        }
        var built = [[Double]](repeating: [], count: cases.count), deployed = built, runtime = built
        for round in 1...c.rounds {
            for (k, item) in cases.enumerated() {
                let warmup = round == 1 ? c.warmup : 1
                built[k] += Stopwatch.milliseconds(repeats: c.repeatsPerRound, warmup: warmup) { _ = item.network.infer(item.input) }
                deployed[k] += Stopwatch.milliseconds(repeats: c.repeatsPerRound, warmup: warmup) { _ = item.graph.run(item.input) }
                try worker.load(item.model)
                runtime[k] += try worker.time(repeats: c.repeatsPerRound, warmup: warmup).wall
            }
            progress("round \(round)/\(c.rounds)")
        }
        let rows = references.indices.map { k in
            Row(position: references[k].position, index: references[k].index, architecture: space.string(of: references[k].architecture),
                built: SampleStatistics(built[k]), deployed: SampleStatistics(deployed[k]), onnxRuntime: SampleStatistics(runtime[k]))
        }
        return Report(configuration: c, runtime: worker.description, rows: rows)
    }
}

extension RuntimeComparison.Report {
    public var table: String {
        let c = configuration
        var lines = [
            "Engine against \(runtime): space \(c.space), batch 1, \(c.threads) thread(s), \(c.rounds) rounds × \(c.repeatsPerRound) runs per network and side, interleaved",
            "built = the engine's network as the profiler builds it; deployed = the engine on the deployed graph (BN folded, dead branches removed),",
            "the graph ONNX Runtime runs from the exported model",
            "engine kernels: \(CPUKernels.description())",
            "",
            "pos  index   built ms  deployed ms  onnxruntime ms  deployed ÷ ort  built ÷ ort",
        ]
        for r in rows {
            lines.append([String(r.position).leftPadded(3), String(r.index).leftPadded(6), format(r.built.median, digits: 3).leftPadded(10),
                          format(r.deployed.median, digits: 3).leftPadded(12), format(r.onnxRuntime.median, digits: 3).leftPadded(15),
                          format(r.ratio, digits: 2).leftPadded(14), format(r.built.median / r.onnxRuntime.median, digits: 2).leftPadded(12)]
                .joined(separator: " "))
        }
        lines += ["",
                  "median ratio, deployed engine ÷ ONNX Runtime: \(format(medianRatio, digits: 2)) (built network: \(format(medianBuiltRatio, digits: 2)))",
                  "Spearman of the medians, deployed engine vs ONNX Runtime: \(format(spearman, digits: 3)) (built network: \(format(builtSpearman, digits: 3)))"]
        return lines.joined(separator: "\n")
    }
}
