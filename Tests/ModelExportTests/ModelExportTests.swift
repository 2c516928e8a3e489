import Foundation
import GPTSpace
import Testing
import TestSupport
@testable import Autodiff
@testable import ModelExport
import SearchSpaces
@testable import NB201Space
@testable import OFASpace

@Suite struct ProtobufWriterTests {
    /// The examples of the Protocol Buffers encoding guide: 1 is one byte, 300 is AC 02, and a
    /// negative int64 takes ten bytes.
    @Test func varintsAndFieldsMatchTheWireFormat() {
        #expect(ProtobufWriter.varint(1) == [0x01])
        #expect(ProtobufWriter.varint(300) == [0xAC, 0x02])
        #expect(ProtobufWriter.varint(UInt64(bitPattern: -1)).count == 10)
        var w = ProtobufWriter()
        w.int(1, 150)          // field 1, varint: 08 96 01
        w.string(2, "testing") // field 2, length-delimited: 12 07 t e s t i n g
        #expect(w.bytes == [0x08, 0x96, 0x01, 0x12, 0x07] + Array("testing".utf8))
        var f = ProtobufWriter()
        f.float(2, 1)          // field 2, wire type 5: 15, then 1.0 as little-endian IEEE 754
        #expect(f.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
    }
}

/// Random running statistics and affine parameters in every batch norm, so that folding them is tested.
func randomizeBatchNorms(_ network: NB201Network, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    var norms = [network.stemNorm, network.lastNorm]
    norms += network.stages.flatMap { $0.flatMap { $0.convs.compactMap { $0?.norm } } }
    norms += network.reductions.flatMap { [$0.first.norm, $0.second.norm] }
    for norm in norms {
        let c = norm.statistics.mean.count
        norm.statistics.mean = (0..<c).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
        norm.statistics.variance = (0..<c).map { _ in Float.random(in: 0.5...2, using: &rng) }
        norm.scale?.value = Tensor(shape: [c], scalars: (0..<c).map { _ in Float.random(in: 0.5...1.5, using: &rng) })
        norm.shift?.value = Tensor(shape: [c], scalars: (0..<c).map { _ in Float.random(in: -0.3...0.3, using: &rng) })
    }
}

/// The architectures the equivalence tests use: 30 seeded samples and cells with dead nodes.
func exportArchitectures() throws -> [NB201Architecture] {
    try ["|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",   // node 2 dead, node 1 unused
         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",                                // every cell outputs zero
         "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"]                        // output dead, node 1 unused
        .map(NB201Architecture.init(parsing:)) + NB201Sampler.distinct(count: 30, seed: 15)
}

func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = max(b.scalars.map(abs).max() ?? 0, 1e-6)
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
}

@Suite struct InferenceGraphTests {
    @Test func theDeployedGraphComputesWhatTheNetworkComputes() throws {
        let shape = NB201NetworkShape(channels: 8, cellsPerStage: 2, resolution: 16)
        var rng = SeededGenerator(seed: 2)
        let input = Tensor.uniform(shape: [2, 3, 16, 16], low: -1, high: 1, using: &rng)
        for (k, architecture) in try exportArchitectures().enumerated() {
            let network = NB201Network(architecture, shape: shape, seed: UInt64(k))
            randomizeBatchNorms(network, seed: UInt64(100 + k))
            let graph = network.inferenceGraph(batch: 2)
            let engine = network.infer(input), deployed = graph.run(input)
            #expect(deployed.shape == engine.shape && graph.valueShapes[graph.output] == engine.shape)
            #expect(relativeDifference(deployed, engine) < 1e-4, "\(architecture.string)")
        }
    }

    /// The example: node 2 has only `none` inputs, so the 3×3 convolution it feeds is its
    /// folded bias, and node 1 (an average pool) reaches the output only through `none`: neither
    /// is computed. What remains of each cell is the skip edge and a constant.
    @Test func deadBranchesAreRemoved() throws {
        let architecture = try NB201Architecture(parsing: "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
        let graph = NB201Network(architecture).inferenceGraph()
        // Stem 1 and 3 per reduction block: no convolution and no pooling of a cell is left.
        #expect(graph.operationCounts["convolution"] == 7 && graph.operationCounts["averagePool3x3"] == nil)
        #expect(graph.operationCounts["constant"] == 15)
        let allConvolutions = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        // The six 3×3 edges of a cell leave 3 nodes: one stacked convolution per node, sliced per edge.
        let counts = NB201Network(allConvolutions).inferenceGraph().operationCounts
        #expect(counts["convolution"] == 7 + 15 * 3 && counts["channelSlice"] == 15 * 5)
    }
}

/// The repository's Python with onnx and onnxruntime: `MODNAS_PYTHON`, or `.venv/bin/python`
/// as `scripts/install-python-deps` creates it.
func pythonWithONNXRuntime() throws -> (python: String, root: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let python = ProcessInfo.processInfo.environment["MODNAS_PYTHON"] ?? root + "/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw ONNXTestError("no Python with onnx and onnxruntime at \(python): run scripts/install-python-deps")
    }
    return (python, root)
}

struct ONNXTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `scripts/onnx-run.py` (the onnx checker, then ONNX Runtime) on models; output and errors go to files.
func runWithONNXRuntime(_ models: [String], input: Tensor, in dir: String) throws -> [Tensor] {
    let (python, root) = try pythonWithONNXRuntime()
    let inputPath = dir + "/input.bin"
    try Data(input.scalars.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } })
        .write(to: URL(fileURLWithPath: inputPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root + "/scripts/onnx-run.py", "--input", inputPath, "--shape", input.shape.map(String.init).joined(separator: ",")] + models
    FileManager.default.createFile(atPath: dir + "/log", contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/log"))
    process.standardOutput = log
    process.standardError = log
    try process.run()
    process.waitUntilExit()
    try log.close()
    guard process.terminationStatus == 0 else {
        throw ONNXTestError("onnx-run.py failed: " + ((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""))
    }
    return try models.map { path in
        let data = try Data(contentsOf: URL(fileURLWithPath: path + ".out"))
        let scalars = data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        return Tensor(shape: [input.shape[0], scalars.count / input.shape[0]], scalars: scalars)
    }
}

/// Ten seeded OFA MobileNetV3 architectures (their resolutions vary, 128–224).
func ofaExportNetworks() -> [MobileNetV3Network] {
    let space = OFASearchSpace()
    return space.sample(count: 10, seed: 21).enumerated().map { k, a in space.makeNetwork(a, seed: UInt64(k)) as! MobileNetV3Network }
}

@Suite struct OFAInferenceGraphTests {
    @Test func theDeployedGraphComputesWhatTheNetworkComputes() {
        var rng = SeededGenerator(seed: 3)
        for network in ofaExportNetworks() {
            let input = Tensor.uniform(shape: network.inputShape(batch: 1), low: -1, high: 1, using: &rng)
            let graph = network.inferenceGraph(batch: 1)
            let engine = network.infer(input), deployed = graph.run(input)
            #expect(deployed.shape == engine.shape && graph.valueShapes[graph.output] == engine.shape)
            #expect(relativeDifference(deployed, engine) < 1e-4)
        }
    }
}

@Suite struct ONNXExportTests {
    /// The same for 10 OFA MobileNetV3 architectures: depthwise convolutions, h-swish and
    /// squeeze-and-excitation, each at its own resolution (one model and input at a time).
    @Test func onnxRuntimeComputesWhatTheEngineComputesOnOFA() throws {
        var rng = SeededGenerator(seed: 5)
        for (k, network) in ofaExportNetworks().enumerated() {
            let dir = try Scratch.directory("modnas-onnx-ofa")
            let input = Tensor.uniform(shape: network.inputShape(batch: 1), low: -1, high: 1, using: &rng)
            let path = dir + "/ofa.onnx"
            try ONNXModel.write(network.inferenceGraph(batch: 1), graphName: "ofa", docString: "ofa \(k)", to: path)
            let runtime = try runWithONNXRuntime([path], input: input, in: dir)[0], engine = network.infer(input)
            #expect(runtime.shape == engine.shape && relativeDifference(runtime, engine) < 1e-4, "OFA architecture \(k): \(relativeDifference(runtime, engine))")
        }
    }

    /// Every exported model passes the onnx checker, and ONNX Runtime's logits on the exported
    /// weights agree with the engine's to 1e-4 relative: 30 seeded NB201 architectures and 3 with
    /// dead nodes, at the benchmark shape (C = 16, N = 5, 32×32×3).
    @Test func onnxRuntimeComputesWhatTheEngineComputes() throws {
        let dir = try Scratch.directory("modnas-onnx")
        var rng = SeededGenerator(seed: 4)
        let input = Tensor.uniform(shape: [1, 3, 32, 32], low: -1, high: 1, using: &rng)
        var engine: [Tensor] = [], models: [String] = []
        for (k, architecture) in try exportArchitectures().enumerated() {
            let network = NB201Network(architecture, seed: UInt64(k))
            randomizeBatchNorms(network, seed: UInt64(200 + k))
            let path = dir + "/\(k).onnx"
            try ONNXModel.write(network.inferenceGraph(batch: 1), graphName: "nb201", docString: architecture.string, to: path)
            models.append(path)
            engine.append(network.infer(input))
        }
        let runtime = try runWithONNXRuntime(models, input: input, in: dir)
        for (k, (a, b)) in zip(runtime, engine).enumerated() {
            #expect(a.shape == b.shape && relativeDifference(a, b) < 1e-4, "architecture \(k): \(relativeDifference(a, b))")
        }
    }

    /// The 10 reference architectures (HW-GPT-Bench's widths and depths, up to 12 layers of 768)
    /// exported as deployed: ONNX Runtime's logits agree with the engine's to 1e-4 relative on a
    /// prefill of 10 tokens, over a vocabulary of 97 (the head and embedding are the only parts
    /// the vocabulary sizes), with random layer norms and biases.
    @Test func onnxRuntimeComputesWhatTheEngineComputesOnTheGPTReferences() throws {
        let dir = try Scratch.directory("modnas-onnx-gpt-references")
        let tokens: [Float] = [2, 71, 82, 81, 82, 84, 59, 4, 52, 35]
        let input = Tensor(shape: [1, tokens.count], scalars: tokens)
        var engine: [Tensor] = [], models: [String] = []
        for reference in try GPTSearchSpace().referenceArchitectures() {
            let network = GPTNetwork(reference.architecture, vocabulary: 97, seed: UInt64(reference.index))
            var rng = SeededGenerator(seed: UInt64(reference.index))
            for p in network.parameters where p.value.rank == 1 {
                p.value = .uniform(shape: p.value.shape, low: 0.5, high: 1.5, using: &rng)
            }
            let graph = network.deployedGraph(batch: 1, sequenceLength: tokens.count)
            let path = dir + "/\(reference.index).onnx"
            try ONNXModel.write(graph, graphName: "gpt", docString: reference.architecture.string, to: path)
            models.append(path)
            engine.append(graph.run(input))
        }
        #expect(models.count == 10)
        for (k, (a, b)) in zip(try runWithONNXRuntime(models, input: input, in: dir), engine).enumerated() {
            let difference = relativeDifference(Tensor(shape: b.shape, scalars: a.scalars), b)
            #expect(a.count == b.count && difference < 1e-4, "reference \(k): \(difference)")
        }
    }

    /// The GPT space's deployed graphs (embedding, layer norms, rotary causal attention, SiLU-gated
    /// MLP, head; a decoding step on a key–value cache) pass the onnx checker, and ONNX Runtime's
    /// logits agree with the engine's to 1e-4 relative: 4 seeded architectures with every weight
    /// random, over a vocabulary of 97, prefill of 10 tokens and one decoding step each.
    @Test func onnxRuntimeComputesWhatTheEngineComputesOnGPT() throws {
        let dir = try Scratch.directory("modnas-onnx-gpt")
        let tokens: [Float] = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38]
        let input = Tensor(shape: [1, tokens.count], scalars: tokens)
        var engine: [Tensor] = [], models: [String] = []
        var steps: [(graph: InferenceGraph, path: String)] = []
        for (k, architecture) in GPTArchitecture.sample(count: 4, seed: 11).enumerated() {
            let small = try GPTArchitecture(embedding: k < 3 ? 192 : 384, heads: architecture.heads, mlpRatios: architecture.mlpRatios,
                                            bias: architecture.bias)
            let network = GPTNetwork(small, vocabulary: 97, seed: UInt64(k))
            var rng = SeededGenerator(seed: UInt64(50 + k))
            for p in network.parameters { p.value = .normal(shape: p.value.shape, standardDeviation: 0.3, using: &rng) }
            let graph = network.deployedGraph(batch: 1, sequenceLength: tokens.count)
            let path = dir + "/\(k).onnx"
            try ONNXModel.write(graph, graphName: "gpt", docString: small.string, to: path)
            models.append(path)
            engine.append(graph.run(input))
            // A decoding step after 5 random cached positions, with its caches as constants.
            let step = network.decodeGraph(caches: network.randomCaches(batch: 1, length: 5, seed: UInt64(k)))
            try ONNXModel.write(step, graphName: "gpt-decode", docString: small.string, to: path + ".decode.onnx")
            steps.append((step, path + ".decode.onnx"))
        }
        let runtime = try runWithONNXRuntime(models, input: input, in: dir)
        for (k, (a, b)) in zip(runtime, engine).enumerated() {
            let difference = relativeDifference(Tensor(shape: b.shape, scalars: a.scalars), b)
            #expect(a.count == b.count && difference < 1e-4, "architecture \(k): \(difference)")
        }
        let token = Tensor(shape: [1, 1], scalars: [42])
        for (k, (a, step)) in zip(try runWithONNXRuntime(steps.map(\.path), input: token, in: dir), steps).enumerated() {
            let b = step.graph.run(token)
            #expect(a.count == b.count && relativeDifference(Tensor(shape: b.shape, scalars: a.scalars), b) < 1e-4, "decoding step \(k)")
        }
    }
}
