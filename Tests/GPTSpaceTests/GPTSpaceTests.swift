import Autodiff
import DataFiles
import Foundation
@testable import GPTSpace
import SearchSpaces
import Testing

@Suite struct GPTSpaceTests {
    static let table = try! CSVTable(contentsOf: ShippedData.path("Devices/hwgpt/architectures.csv.gz"))

    /// Every row of HW-GPT-Bench's table: the string parses to the row's columns and back, and the
    /// counter gives the table's parameters exactly and its FLOPs for 8 × 1,024 tokens as 2 per
    /// linear multiply–accumulate plus the element-wise share the README gives (2.00088–2.00184 per MAC).
    @Test func everyTableRowParsesAndCountsAsTheBenchmark() throws {
        let t = Self.table
        let strings = try t.column("arch_string"), embed = try t.numericColumn("embed"), layers = try t.numericColumn("layers")
        let heads = try t.column("heads"), ratios = try t.column("mlp_ratios"), bias = try t.numericColumn("bias")
        let params = try t.numericColumn("params"), flops = try t.numericColumn("flops")
        #expect(strings.count == 10_000)
        var worst = (low: Double.infinity, high: 0.0)
        for i in strings.indices {
            let a = try GPTArchitecture(parsing: strings[i])
            #expect(a.string == strings[i])
            #expect(a.embedding == Int(embed[i]) && a.layers == Int(layers[i]) && a.bias == (bias[i] == 1))
            #expect(a.heads == heads[i].split(separator: " ").map { Int($0)! } && a.mlpRatios == ratios[i].split(separator: " ").map { Int($0)! })
            let cost = GPTCost(a, batch: 8, sequenceLength: 1024)
            #expect(Double(cost.parameters) == params[i], "row \(i): \(cost.parameters) against \(params[i])")
            let perMAC = flops[i] / Double(cost.linearMultiplyAccumulates)
            worst = (min(worst.low, perMAC), max(worst.high, perMAC))
        }
        #expect(worst.low >= 2.00088 - 1e-5 && worst.high <= 2.00184 + 1e-5, "FLOPs per MAC \(worst)")
    }

    /// The 10 reference architectures are table rows.
    @Test func referenceArchitecturesAreTableRows() throws {
        let refs = try CSVTable(contentsOf: ShippedData.path("Devices/hwgpt/reference_archs.csv"))
        let strings = try Self.table.column("arch_string")
        let indices = try refs.numericColumn("arch_index").map { Int($0) }
        #expect(indices.count == 10)
        for (index, string) in zip(indices, try refs.column("arch_string")) {
            let parsed = try GPTArchitecture(parsing: string)
            #expect(strings[index] == string && parsed.string == string)
        }
    }

    @Test func malformedAndOutOfSpaceStringsSayWhy() {
        let cases: [(String, String)] = [
            ("e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3", "it has 4 '-'-separated parts, not 5"),
            ("e385-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b1", "embedding width 385"),
            ("e384-l9-h4.4.8.12.4.12.8.4.12-m3.2.4.4.3.3.4.2.4-b1", "9 layers"),
            ("e384-l10-h4.4.8.12.4.12.8.4.12-m3.2.4.4.3.3.4.2.4.3-b1", "needs 10 head counts"),
            ("e384-l10-h4.4.8.12.4.12.8.4.12.6-m3.2.4.4.3.3.4.2.4.3-b1", "layer 10 has 6 heads"),
            ("e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.5-b1", "layer 10 has MLP ratio 5"),
            ("e384-l10-h4.4.8.12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b2", "the bias 'b2'"),
            ("e384-l10-h4.4..12.4.12.8.4.12.8-m3.2.4.4.3.3.4.2.4.3-b1", "holds '', not a number"),
            ("../../etc/passwd", "not a GPT architecture string"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try GPTArchitecture(parsing: text)
                Issue.record("\(text) parsed")
            } catch {
                #expect("\(error)".contains(fragment) && !"\(error)".contains("\n"), "\(error)")
            }
        }
    }

    /// Seeded and uniform: every choice appears about equally often over 3,000 draws.
    @Test func theSamplerIsSeededAndUniform() {
        let a = GPTArchitecture.sample(count: 3000, seed: 7), b = GPTArchitecture.sample(count: 3000, seed: 7)
        #expect(a == b && a != GPTArchitecture.sample(count: 3000, seed: 8))
        for width in GPTArchitecture.embeddingWidths {
            let share = Double(a.filter { $0.embedding == width }.count) / 3000
            #expect(abs(share - 1.0 / 3) < 0.04, "embedding \(width): \(share)")
        }
        let heads: [Int] = a.flatMap(\.heads)
        for h in GPTArchitecture.headCounts {
            let share: Double = Double(heads.filter { $0 == h }.count) / Double(heads.count)
            #expect(abs(share - 1.0 / 3) < 0.02, "heads \(h): \(share)")
        }
        let withBias: Double = Double(a.filter(\.bias).count) / 3000
        #expect(abs(withBias - 0.5) < 0.04)
    }

    /// HW-GPT-Bench's perplexity MLP on the encoding gives its shipped outputs for all 10,000
    /// table architectures (within 1e-4 relative; the README expects ~1e-4 from a float32
    /// re-implementation), which also checks the encoding's layout; a file of another shape is refused.
    @Test func thePerplexityPredictorReproducesItsShippedOutputs() throws {
        let predictor = try GPTPerplexityPredictor.shipped()
        let outputs = try CSVTable(contentsOf: ShippedData.path("Devices/hwgpt/perplexity_predictor_outputs.csv"))
        let expected = try outputs.numericColumn("predicted_perplexity"), rows = try outputs.numericColumn("arch_index").map { Int($0) }
        let strings = try Self.table.column("arch_string")
        let predicted = predictor.perplexity(try rows.map { try GPTArchitecture(parsing: strings[$0]) })
        let worst = zip(predicted, expected).map { abs($0 - $1) / $1 }.max()!
        #expect(rows.count == 10_000 && worst < 1e-4, "worst relative difference \(worst)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-predictor-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(#"{"format": "hwgpt-perplexity-predictor.v1", "input_dim": 79, "layers": []}"#.utf8).write(to: URL(fileURLWithPath: "\(dir)/p.json"))
        #expect(throws: DataFileError.self) { try GPTPerplexityPredictor(path: "\(dir)/p.json") }
    }

    /// The attention products, counted apart: 2 · T² · 64 · Σheads per sequence.
    @Test func attentionProductsAreCountedApart() throws {
        let a = try GPTArchitecture(parsing: "e192-l10-h4.4.4.4.4.4.4.4.4.4-m2.2.2.2.2.2.2.2.2.2-b0")
        let one = GPTCost(a, batch: 1, sequenceLength: 16), two = GPTCost(a, batch: 2, sequenceLength: 16)
        #expect(one.attentionMultiplyAccumulates == 2 * 16 * 16 * 64 * 40)
        #expect(two.attentionMultiplyAccumulates == 2 * one.attentionMultiplyAccumulates)
        #expect(two.linearMultiplyAccumulates == 2 * one.linearMultiplyAccumulates)
        let perToken: Int = 192 * 50_254 + 256 * 192 * 40 + 3 * 192 * 192 * 20
        #expect(one.linearMultiplyAccumulates == 16 * perToken)
    }

    /// The taped network holds exactly the parameters the counter (and HW-GPT-Bench's table) gives,
    /// with and without biases, over the real 50,254-token vocabulary.
    @Test(arguments: ["e192-l10-h4.8.12.4.8.12.4.8.12.4-m2.3.4.2.3.4.2.3.4.2-b0", "e192-l11-h12.4.4.8.8.12.4.4.8.8.12-m4.4.3.3.2.2.4.4.3.3.2-b1"])
    func theNetworkHasTheCountersParameters(_ string: String) throws {
        let a = try GPTArchitecture(parsing: string)
        let network = GPTNetwork(a, seed: 1)
        #expect(network.parameters.reduce(0) { $0 + $1.value.count } == GPTCost(a).parameters)
    }

    /// Logits [B·T, V]; a later token never changes an earlier position's logits; the loss's
    /// gradient reaches every parameter.
    @Test func theNetworkIsCausalAndTrainable() throws {
        let a = try GPTArchitecture(parsing: "e192-l10-h4.4.4.4.4.4.4.4.4.4-m2.2.2.2.2.2.2.2.2.2-b1")
        let network = GPTNetwork(a, vocabulary: 50, seed: 2)
        let tokens = [[3, 14, 15, 9], [2, 6, 5, 35]]
        let logits = network.logits(tokens)
        #expect(logits.value.shape == [8, 50])
        var changed = tokens
        changed[0][2] = 49
        let again = network.logits(changed).value
        #expect(Array(again.scalars[0..<100]) == Array(logits.value.scalars[0..<100]))   // positions 0 and 1 of sequence 0
        #expect(Array(again.scalars[100..<150]) != Array(logits.value.scalars[100..<150]))
        crossEntropy(logits, labels: [14, 15, 9, 26, 6, 5, 35, 8]).backward()
        #expect(network.parameters.allSatisfy { p in p.grad.map { g in g.scalars.contains { $0 != 0 } } ?? false })
    }

    /// A seeded network with every weight, bias and layer norm drawn at random (so a dropped
    /// bias, shift or scale shows), over a small vocabulary.
    static func randomized(_ string: String, vocabulary: Int = 97, seed: UInt64) throws -> GPTNetwork {
        let network = GPTNetwork(try GPTArchitecture(parsing: string), vocabulary: vocabulary, seed: seed)
        var rng = SeededGenerator(seed: seed &+ 1)
        for p in network.parameters { p.value = .normal(shape: p.value.shape, standardDeviation: 0.3, using: &rng) }
        return network
    }

    /// The deployed graph (sgemm projections, attention without a mask) gives the taped network's
    /// logits, with and without biases, for two sequences.
    @Test(arguments: ["e192-l10-h4.8.12.4.8.12.4.8.12.4-m2.3.4.2.3.4.2.3.4.2-b0", "e384-l11-h12.4.4.8.8.12.4.4.8.8.12-m4.4.3.3.2.2.4.4.3.3.2-b1"])
    func theDeployedGraphComputesWhatTheTapedNetworkComputes(_ string: String) throws {
        let network = try Self.randomized(string, seed: 5)
        let tokens = [[3, 14, 15, 92, 65, 35, 89], [79, 32, 38, 46, 26, 43, 38]]
        let taped = withoutTape { network.logits(tokens).value }
        let graph = network.deployedGraph(batch: 2, sequenceLength: 7)
        let deployed = graph.run(Tensor(shape: [2, 7], scalars: tokens.flatMap { $0.map(Float.init) }))
        #expect(deployed.shape == taped.shape && graph.valueShapes[graph.output] == [14, 97])
        let scale = taped.scalars.map(abs).max()!
        let worst = zip(deployed.scalars, taped.scalars).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "worst difference \(worst) of \(scale)")
        #expect(graph.operationCounts["causalSelfAttention"] == network.architecture.layers)
    }

    /// A decoding step on the key–value caches of 7 tokens gives the logits the prefill of all 8
    /// gives at the last position, for both sequences.
    @Test func aDecodingStepOnTheCacheEqualsThePrefillsLastPosition() throws {
        let network = try Self.randomized("e192-l10-h4.8.12.4.8.12.4.8.12.4-m2.3.4.2.3.4.2.3.4.2-b1", seed: 6)
        let tokens = [[3, 14, 15, 92, 65, 35, 89, 7], [79, 32, 38, 46, 26, 43, 38, 96]]
        let full = network.deployedGraph(batch: 2, sequenceLength: 8).run(Tensor(shape: [2, 8], scalars: tokens.flatMap { $0.map(Float.init) }))
        let caches = network.caches(after: tokens.map { Array($0.prefix(7)) })
        #expect(caches.count == 10 && caches.allSatisfy { $0.length == 7 })
        let step = network.decodeGraph(caches: caches)
        let next = step.run(Tensor(shape: [2, 1], scalars: tokens.map { Float($0[7]) }))
        #expect(next.shape == [2, 97] && step.operationCounts["cachedSelfAttention"] == 10)
        let rows = [7, 15].map { (row: Int) -> ArraySlice<Float> in full.scalars[(row * 97)..<((row + 1) * 97)] }
        let last: [Float] = Array(rows[0]) + Array(rows[1])
        let scale = last.map(abs).max()!
        let worst = zip(next.scalars, last).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "worst difference \(worst) of \(scale)")
    }

}

/// The GPT space behind `--space gpt` (its decisions and encodings are checked with the other
/// spaces' in SearchSpacesTests): table lookups, the registry, its networks and inputs.
@Suite struct GPTSearchSpaceTests {
    let space = GPTSearchSpace()

    /// References are table rows; the indexer finds every one; sampled inputs are token ids.
    @Test func theTableAndTheRegistryKnowTheSpace() throws {
        let references = try space.referenceArchitectures()
        let index = try space.tableIndexer()
        #expect(references.count == 10 && references.allSatisfy { index($0.architecture) == $0.index })
        #expect(SpaceName.gpt.space.name == .gpt && SpaceName.gpt.tableSize == 10_000 && SpaceName(fileName: "v100.gpt.json") == .gpt)
        let small = GPTSearchSpace(shape: GPTNetworkShape(sequenceLength: 12, vocabulary: 97))
        let network = small.makeNetwork(references[0].architecture, seed: 0)
        var rng = SeededGenerator(seed: 2)
        let tokens = network.sampleInput(batch: 2, using: &rng)
        #expect(tokens.shape == [2, 12] && tokens.scalars.allSatisfy { $0 >= 0 && $0 < 97 && $0 == $0.rounded() })
        #expect(network.infer(tokens).shape == [24, 97])
        let decode = GPTSearchSpace(shape: GPTNetworkShape(sequenceLength: 12, phase: .decode, vocabulary: 97)).makeNetwork(references[0].architecture, seed: 0)
        #expect(decode.inputShape(batch: 2) == [2, 1] && decode.inferenceGraph(batch: 2).operationCounts["cachedSelfAttention"] == references[0].architecture.layers)
        // The cost: the table's parameters, and linear MACs of one pass of the shape's input.
        #expect(space.cost(of: references[0].architecture).parameters == GPTCost(references[0].architecture).parameters)
    }
}
