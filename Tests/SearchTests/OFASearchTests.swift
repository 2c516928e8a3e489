import Autodiff
import DataFiles
import DeviceModel
import Foundation
import Predictors
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space
import OFASpace

/// Shipped OFA data the tests share (loaded once).
enum ShippedOFA {
    static let benchmark = try! OFABenchmark.shipped()

    static func device(_ name: String) throws -> SearchDevice {
        let features = try DeviceFeatures.load(ShippedData.path("Profiles/\(name).ofa.json"))
        let predictor = try DevicePredictor(path: ShippedData.path("Predictors/mlp-\(name).ofa.json"))
        return try SearchDevice(features: features, predictor: predictor, latencySource: "mlp-\(name).ofa.json", isTraining: true)
    }
}

@Suite struct DecisionLayoutTests {
    @Test func runsGroupDecisionsOfEqualSize() {
        let nb201 = DecisionLayout(of: NB201SearchSpace()), ofa = DecisionLayout(of: OFASearchSpace())
        #expect(nb201.runs.map { [$0.offset, $0.decisions, $0.choices] } == [[0, 6, 5]] && nb201.width == 30)
        #expect(ofa.runs.map { [$0.offset, $0.decisions, $0.choices] } == [[0, 45, 3], [135, 1, 25]] && ofa.width == 160)
        // The argmax of a choice one-hot gives back the architecture.
        let space = OFASearchSpace()
        for a in space.sample(count: 20, seed: 4) { #expect(space.architecture(choices: ofa.argmax(space.decisionOneHot(a))) == a) }
    }

    @Test func samplesAreOneChoicePerDecision() {
        let layout = DecisionLayout(of: OFASearchSpace())
        var rng = SeededGenerator(seed: 5)
        let logits = Variable(Tensor.uniform(shape: [160], low: -2, high: 2, using: &rng), requiresGrad: true)
        let sample = layout.reinMaxSample(layout.matrices(logits), using: &rng).value.scalars
        #expect(sample.allSatisfy { $0 == 0 || $0 == 1 })
        var offset = 0
        for d in OFASearchSpace().decisions {
            #expect(sample[offset..<(offset + d.choices.count)].reduce(0, +) == 1, "decision \(d.name)")
            offset += d.choices.count
        }
    }

    /// Σ p log p over all 46 decisions, taped through the slices of the layout.
    @Test func negativeEntropyGradientMatchesFiniteDifferences() {
        let layout = DecisionLayout(of: OFASearchSpace())
        var rng = SeededGenerator(seed: 6)
        let x = (0..<160).map { _ in Float(rng.nextUniform() * 4 - 2) }
        func value(_ y: [Float]) -> Double {
            Double(withoutTape { layout.negativeEntropy(layout.matrices(Variable(Tensor(shape: [160], scalars: y)))) }.value.scalars[0])
        }
        // By hand, in Double.
        var byHand = 0.0, offset = 0
        for d in OFASearchSpace().decisions {
            let row = x[offset..<(offset + d.choices.count)].map(Double.init)
            let z = row.map { exp($0) }.reduce(0, +)
            byHand += row.map { exp($0) / z * ($0 - log(z)) }.reduce(0, +)
            offset += d.choices.count
        }
        #expect(abs(value(x) - byHand) < 1e-4)
        let v = Variable(Tensor(shape: [160], scalars: x), requiresGrad: true)
        layout.negativeEntropy(layout.matrices(v)).backward()
        let numeric = numericGradient(x, step: 1e-2) { value($0) }
        for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 2e-3, "\(a) vs \(n)") }
    }
}

@Suite(.serialized) struct OFAAccuracyObjectiveTests {
    /// The benchmark mode's error is the OFA predictor's, normalised, and its gradient through the
    /// relaxed encoding matches central differences.
    @Test func predictorAccuracyGradientMatchesFiniteDifferences() throws {
        let space = OFASearchSpace()
        let objective = BenchmarkModelAccuracy(ShippedOFA.benchmark.predictor, space: OFASearchSpace())
        let range = try #require(objective.errorRange)
        let a = space.sample(count: 1, seed: 8)[0]
        let atOneHot = objective.normalizedError(space.relaxedEncoding(Variable(Tensor(shape: [160], scalars: space.decisionOneHot(a)))), device: 0)
        let expected = (objective.errors([a])[0] - range.lowerBound) / (range.upperBound - range.lowerBound)
        #expect(abs(Double(atOneHot.value.scalars[0]) - expected) < 1e-4)
        var rng = SeededGenerator(seed: 9)
        let x = space.randomRelaxation(using: &rng)
        let v = Variable(Tensor(shape: [160], scalars: x), requiresGrad: true)
        objective.normalizedError(space.relaxedEncoding(v), device: 0).backward()
        let numeric = numericGradient(x, step: 1e-3) { y in
            Double(withoutTape { objective.normalizedError(space.relaxedEncoding(Variable(Tensor(shape: [160], scalars: y))), device: 0) }.value.scalars[0])
        }
        let scale = numeric.map(abs).max()!
        #expect(scale > 0)
        for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 0.03 * scale, "\(a) vs \(n)") }
    }

    /// K = 200 seeded table queries of the predictor fit a surrogate that ranks the whole table,
    /// with a gradient that matches central differences.
    @Test func surrogateOnTableQueriesRanksTheTable() throws {
        let bench = ShippedOFA.benchmark, space = OFASearchSpace()
        let surrogate = try bench.surrogate(queries: 200, seed: 0, ensembleSize: 1)
        #expect(surrogate.queried.count == 200 && Set(surrogate.queried).count == 200 && surrogate.problem == nil)
        let rho = PredictionMetrics(predicted: surrogate.errors(bench.architectures, in: space), truth: bench.tableError).spearman
        #expect(rho > 0.8, "Spearman \(rho)")
        var rng = SeededGenerator(seed: 3)
        let x = space.randomRelaxation(using: &rng)
        let (_, gradient) = surrogate.evaluate(x)
        let numeric = numericGradient(x, step: 1e-3) { surrogate.evaluate($0).error }
        let scale = numeric.map(abs).max()!
        for (a, n) in zip(gradient, numeric) { #expect(abs(Double(a) - n) < 0.03 * scale, "\(a) vs \(n)") }
        // A surrogate of one space is refused by a search of the other.
        #expect(throws: SearchError.self) { try SurrogateAccuracy(surrogate, space: NB201SearchSpace(), chanceGate: NB201Benchmark.chanceGate) }
    }
}

@Suite(.serialized) struct OFASearchLoopTests {
    static func search() throws -> MODNASSearch<OFASearchSpace> {
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch, c.preferencesPerStep) = (2, 5, 2)
        return try MODNASSearch(space: OFASearchSpace(), devices: [try ShippedOFA.device("2080ti_1"), try ShippedOFA.device("v100_64")],
                                accuracy: BenchmarkModelAccuracy(ShippedOFA.benchmark.predictor, space: OFASearchSpace()), configuration: c)
    }

    @Test func anOFASearchWritesFrontsThatItsFileReproduces() throws {
        let search = try Self.search()
        search.run()
        let space = OFASearchSpace(), index = try space.tableIndexer()
        let rows = search.devices.flatMap { search.generator.front(for: $0, preferences: 8, tableIndex: index) }
        #expect(rows.count == 16 && rows.allSatisfy { (try? space.parse($0.architecture)) != nil && $0.tableValues.count == 4 })
        #expect(rows.allSatisfy { $0.estimatedLoss.map { (10...40).contains($0) } ?? false }, "\(rows.map(\.estimatedLoss))")
        // The hypernetwork file gives the same fronts.
        let file = HypernetworkFile(search: search, latencyPredictor: try PredictorFile.load(ShippedData.path("Predictors/meta.ofa.json")),
                                    log: search.log, rows: rows)
        let dir = try Scratch.directory("modnas-ofa-fronts")
        try file.write(to: dir + "/h.json")
        let decoded = try HypernetworkFile.load(dir + "/h.json")
        #expect(decoded.space == "ofa" && decoded.accuracyMode == .benchmark)
        let generator = try decoded.generator(space: space)
        let again = search.devices.flatMap { generator.front(for: $0, preferences: 8, tableIndex: index) }
        #expect(again.map(\.architecture) == rows.map(\.architecture) && again.map(\.estimatedLoss) == rows.map(\.estimatedLoss))
        #expect(throws: SpaceMismatchError.self) { try decoded.generator(space: NB201SearchSpace()) }

        // The fronts file carries ks, e, d, r beside the string and is checked against them.
        try Fronts.write(rows, space: space, to: dir + "/f.csv")
        let text = try String(contentsOfFile: dir + "/f.csv", encoding: .utf8)
        #expect(text.hasPrefix("device,preference_index,r_accuracy,r_latency,arch_index,arch_string,ks,e,d,r,predicted_latency_ms,"))
        let read = try Fronts.read(dir + "/f.csv", space: space)   // numbers rounded to 6 (latency) and 4 (accuracy) decimals
        #expect(read.map(\.architecture) == rows.map(\.architecture) && read.map(\.tableValues) == rows.map(\.tableValues)
                && read.map(\.archIndex) == rows.map(\.archIndex) && read.map(\.device) == rows.map(\.device))
        #expect(zip(read, rows).allSatisfy { abs($0.predictedLatencyMs - $1.predictedLatencyMs) < 1e-6 })
        let line = text.split(separator: "\n")[1]
        let columns = line.split(separator: ",", omittingEmptySubsequences: false)
        let r = String(columns[9])
        var tampered = columns
        tampered[9] = Substring(r == "224" ? "128" : "224")
        try text.replacingOccurrences(of: line, with: tampered.joined(separator: ",")).write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        #expect { try Fronts.read(dir + "/bad.csv", space: space) } throws: { "\($0)".contains("does not match arch_string") && "\($0)".contains("line 2") }
        #expect { try Fronts.read(dir + "/f.csv", space: NB201SearchSpace()) } throws: { "\($0)".contains("malformed NB201") || "\($0)".contains("no column") }
    }

    /// A front of one architecture scores HV (1 − e)(1 − l) at its normalised evaluation point;
    /// with no baselines its front is the best of the run (GD = IGD = 0).
    @Test func evaluationScoresAFrontOnThePredictorAndTheEvaluationLatency() throws {
        let bench = ShippedOFA.benchmark, space = OFASearchSpace()
        let a = bench.architectures[17]
        let row = FrontRow(device: "v100_64", preferenceIndex: 0, preference: [1, 0], archIndex: 17, architecture: a.string,
                           tableValues: space.tableValues(of: a), predictedLatencyMs: 1, estimatedLoss: nil)
        let result = try #require(bench.evaluate([row], objectives: .errorAndLatency, measured: [:], baselineBudgets: [], seed: 0).results.first)
        let error = 100 * (1 - bench.predictor.topOne([a])[0])
        let latency = try #require(bench.evaluationLatency["v100_64"]).predictions([a], in: space)[0]
        let table = try #require(bench.latency["v100_64"])
        let errors = bench.tableError
        let e = (error - errors.min()!) / (errors.max()! - errors.min()!), l = (latency - table.min()!) / (table.max()! - table.min()!)
        #expect(result.latencySource == .predicted && abs(result.hypervolume - (1 - e) * (1 - l)) < 1e-9)
        #expect(result.generationalDistance == 0 && result.invertedGenerationalDistance == 0 && result.trueHypervolume == nil)
        // Baselines spend their budget on the same objectives.
        let withBaselines = try #require(bench.evaluate([row], objectives: .errorAndLatency, measured: [:], baselineBudgets: [30], seed: 0).results.first)
        #expect(Set(withBaselines.baselines.keys) == Set(Baselines.names) && withBaselines.baselines.values.allSatisfy { $0 > 0 })
        // A device with neither table nor measurements is named with the reason.
        var unseen = row
        unseen.device = "titan_rtx_64"
        #expect(bench.evaluate([unseen], objectives: .errorAndLatency, measured: [:], baselineBudgets: [], seed: 0).missing["titan_rtx_64"]?.contains("--space ofa") == true)
    }
}
