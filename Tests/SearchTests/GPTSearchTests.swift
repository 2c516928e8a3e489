import Autodiff
import DataFiles
import DeviceModel
import Foundation
import GPTSpace
import Predictors
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

/// Shipped GPT data the tests share (loaded once).
enum ShippedGPT {
    static let benchmark = try! GPTBenchmark.shipped()

    /// A training device with its shipped latency and energy MLPs.
    static func device(_ name: String) throws -> SearchDevice {
        let features = try DeviceFeatures.load(ShippedData.path("Profiles/\(name).gpt.json"))
        let latency = try DevicePredictor(path: ShippedData.path("Predictors/mlp-\(name).gpt.json"))
        let energy = try DevicePredictor(path: ShippedData.path("Predictors/energy-mlp-\(name).gpt.json"))
        return try SearchDevice(features: features, predictor: latency, latencySource: "mlp-\(name).gpt.json", isTraining: true,
                                energyPredictor: (energy, "energy-mlp-\(name).gpt.json"))
    }

    static let threeObjectives = ObjectiveList(costs: [.latency, .energy], loss: .perplexity)
}

@Suite(.serialized) struct GPTAccuracyObjectiveTests {
    /// The benchmark mode's loss is HW-GPT-Bench's predicted perplexity, normalised, and its
    /// gradient through the relaxed encoding matches central differences.
    @Test func predictorPerplexityGradientMatchesFiniteDifferences() throws {
        let space = GPTSearchSpace(), width = space.choiceCount
        let objective = BenchmarkModelAccuracy(ShippedGPT.benchmark.predictor, space: GPTSearchSpace())
        let range = try #require(objective.errorRange)
        let a = ShippedGPT.benchmark.architectures[42]
        let atOneHot = objective.normalizedError(space.relaxedEncoding(Variable(Tensor(shape: [width], scalars: space.decisionOneHot(a)))), device: 0)
        let expected = (objective.errors([a])[0] - range.lowerBound) / (range.upperBound - range.lowerBound)
        #expect(abs(Double(atOneHot.value.scalars[0]) - expected) < 1e-4)
        var rng = SeededGenerator(seed: 9)
        let x = space.randomRelaxation(using: &rng)
        let v = Variable(Tensor(shape: [width], scalars: x), requiresGrad: true)
        objective.normalizedError(space.relaxedEncoding(v), device: 0).backward()
        let numeric = numericGradient(x, step: 1e-3) { y in
            Double(withoutTape { objective.normalizedError(space.relaxedEncoding(Variable(Tensor(shape: [width], scalars: y))), device: 0) }.value.scalars[0])
        }
        let scale = numeric.map(abs).max()!
        #expect(scale > 0)
        for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 0.03 * scale, "\(a) vs \(n)") }
    }

    /// K = 200 table perplexities fit a surrogate (no chance gate) that ranks the whole table.
    @Test func surrogateOnTableQueriesRanksTheTable() throws {
        let bench = ShippedGPT.benchmark, space = GPTSearchSpace()
        let surrogate = try bench.surrogate(queries: 200, seed: 0, ensembleSize: 1)
        #expect(surrogate.queried.count == 200 && Set(surrogate.queried).count == 200 && surrogate.problem == nil && surrogate.chanceError == nil)
        let rho = PredictionMetrics(predicted: surrogate.errors(bench.architectures, in: space), truth: bench.tablePerplexity).spearman
        #expect(rho > 0.9, "Spearman \(rho)")
        // A gated surrogate without its chance error is unusable.
        var broken = try NB201Benchmark.shipped(index: try NB201Index.shipped()).surrogate(queries: 20, seed: 0, ensembleSize: 1)
        broken.chanceError = nil
        #expect(broken.problem?.contains("chance") == true)
    }

    /// The proxy mode queries no perplexity: its surrogate, fitted on the non-embedding parameter
    /// count's ranks, still ranks the table; the count itself ranks it at |ρ| > 0.95.
    @Test func theParameterProxyRanksPerplexityWithoutAQuery() throws {
        let bench = ShippedGPT.benchmark, space = GPTSearchSpace()
        let surrogate = try #require(try bench.trainingFreeSurrogate(count: 200, seed: 0, ensembleSize: 1))
        #expect(surrogate.queried.isEmpty && surrogate.source.contains("non-embedding"))
        let rho = PredictionMetrics(predicted: surrogate.errors(bench.architectures, in: space), truth: bench.tablePerplexity).spearman
        #expect(rho > 0.9, "Spearman \(rho)")
        let check = bench.parameterRankCheck()
        #expect(check.nonEmbedding < -0.95 && check.total < -0.95, "\(check)")
        // The non-embedding count leaves out exactly the embedding and the untied head.
        let a = bench.architectures[0], cost = GPTCost(a)
        #expect(cost.parameters - cost.nonEmbeddingParameters == 2 * a.embedding * GPTCost.vocabulary)
    }
}

@Suite(.serialized) struct GPTEvaluationTests {
    /// A table architecture is scored by the table (perplexity, latency, energy), HV
    /// (1 − p)(1 − l)(1 − e) normalised over the table; one outside it by the estimates, counted.
    @Test func tableArchitecturesAreScoredByTheTableAndOthersAsEstimates() throws {
        let bench = ShippedGPT.benchmark, space = GPTSearchSpace(), objectives = ShippedGPT.threeObjectives
        let a = bench.architectures[17]
        func row(_ a: GPTArchitecture, device: String = "a6000") -> FrontRow {
            FrontRow(device: device, preferenceIndex: 0, preference: [1, 0, 0], archIndex: bench.tableIndex(a), architecture: a.string,
                     predictedLatencyMs: 1, extraCosts: [.energy: 1], estimatedLoss: nil)
        }
        let result = try #require(bench.evaluate([row(a)], objectives: objectives, measured: [:], baselineBudgets: [], seed: 0).results.first)
        let latency = try #require(bench.latency["a6000"]), energy = try #require(bench.energy["a6000"])
        #expect(result.points == [ObjectivePoint([bench.tablePerplexity[17], latency[17], energy[17]])] && result.estimatedPoints == 0)
        func share(_ v: Double, _ all: [Double]) -> Double { (v - all.min()!) / (all.max()! - all.min()!) }
        let expected = (1 - share(bench.tablePerplexity[17], bench.tablePerplexity)) * (1 - share(latency[17], latency)) * (1 - share(energy[17], energy))
        #expect(abs(result.hypervolume - expected) < 1e-9 && result.trueHypervolume! > result.hypervolume)
        // Outside the table: the perplexity predictor and the evaluation MLPs, counted as estimated.
        let outside = try #require(space.sample(count: 50, seed: 3).first { bench.tableIndex($0) == nil })
        let off = try #require(bench.evaluate([row(outside)], objectives: objectives, measured: [:], baselineBudgets: [], seed: 0).results.first)
        let ms = try #require(bench.evaluationLatency["a6000"]).predictions([outside], in: space)[0]
        let joules = try #require(bench.evaluationEnergy["a6000"]).predictions([outside], in: space)[0]
        #expect(off.points == [ObjectivePoint([bench.predictor.perplexity([outside])[0], ms, joules])] && off.estimatedPoints == 1)
        // Baselines spend their budget on the same objectives.
        let withBaselines = try #require(bench.evaluate([row(a)], objectives: objectives, measured: [:], baselineBudgets: [20], seed: 0).results.first)
        #expect(Set(withBaselines.baselines.keys) == Set(Baselines.names) && withBaselines.baselines.values.allSatisfy { $0 > 0 })
        // A measured host (latency only) is scored on perplexity and its measured latency, its
        // energy named as absent.
        var host = row(a, device: "vm-prefill64")
        host.extraCosts = [:]
        let measured = ["vm-prefill64": [a.string: 5.0, outside.string: 9.0]]
        let scored = try #require(bench.evaluate([host], objectives: objectives, measured: measured, baselineBudgets: [], seed: 0).results.first)
        #expect(scored.latencySource == .measured && scored.points == [ObjectivePoint([bench.tablePerplexity[17], 5])] && scored.absentCosts == [.energy])
        let latencyOnly = ObjectiveList(costs: [.latency], loss: .perplexity)
        #expect(bench.evaluate([host], objectives: latencyOnly, measured: measured, baselineBudgets: [], seed: 0).results.first?.absentCosts == nil)
        let table = FrontEvaluation.table([result, off, scored], missing: [:])
        #expect(table.contains("est.") && table.contains("vm-prefill64: scored without energy"))
    }

    /// A GPT fronts file names its loss (`estimated_perplexity`), is recognised as GPT's by its
    /// columns, reads back, and is refused as another space's.
    @Test func aGPTFrontsFileNamesItsLossAndReadsBack() throws {
        let bench = ShippedGPT.benchmark, space = GPTSearchSpace(), objectives = ShippedGPT.threeObjectives
        let rows = [17, 4_000].map { i in
            FrontRow(device: "P100", preferenceIndex: i, preference: [0.5, 0.25, 0.25], archIndex: i, architecture: bench.architectures[i].string,
                     predictedLatencyMs: 12.5, extraCosts: [.energy: 3.25], estimatedLoss: 27.5)
        }
        let dir = try Scratch.directory("modnas-gpt-fronts")
        try Fronts.write(rows, space: space, objectives: objectives, to: dir + "/f.csv")
        let text = try String(contentsOfFile: dir + "/f.csv", encoding: .utf8)
        #expect(text.hasPrefix("device,preference_index,r_accuracy,r_latency,r_energy,arch_index,arch_string,predicted_latency_ms,predicted_energy_j,estimated_perplexity\n"))
        let table = try CSVTable(contentsOf: dir + "/f.csv")
        #expect(try Fronts.space(of: table) == .gpt)
        #expect(try Fronts.objectives(of: table) == objectives)
        #expect(try Fronts.read(dir + "/f.csv", space: space) == rows)
        #expect { try Fronts.read(dir + "/f.csv", space: NB201SearchSpace()) } throws: { "\($0)".contains("perplexity") }
        // The hypernetwork file's objective names carry the loss.
        #expect(objectives.names == ["perplexity", "latency_ms", "energy_j"])
        #expect(try ObjectiveList(names: objectives.names) == objectives)
    }
}

@Suite(.serialized) struct GPTSearchLoopTests {
    /// A short three-objective search over a GPU and a CPU gives every preference vector of the
    /// simplex lattice an architecture of the space, with its predicted costs and estimated perplexity.
    @Test func aThreeObjectiveGPTSearchGivesFrontsOnTheSimplex() throws {
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch, c.preferencesPerStep) = (1, 4, 2)
        let space = GPTSearchSpace()
        let search = try MODNASSearch(space: space, devices: [try ShippedGPT.device("a6000"), try ShippedGPT.device("cpu_mlgpu")],
                                      accuracy: BenchmarkModelAccuracy(ShippedGPT.benchmark.predictor, space: GPTSearchSpace()), configuration: c,
                                      objectives: ShippedGPT.threeObjectives)
        search.run()
        let rows = search.devices.flatMap { search.generator.front(for: $0, preferences: 24, tableIndex: ShippedGPT.benchmark.tableIndex) }
        #expect(rows.count == 2 * 28 && rows.allSatisfy { $0.preference.count == 3 && abs($0.preference.reduce(0, +) - 1) < 1e-9 })
        #expect(rows.allSatisfy { (try? space.parse($0.architecture)) != nil && $0.extraCosts[.energy]! > 0 && (20...60).contains($0.estimatedLoss!) })
        // A new device without reference energies (a host without RAPL) gets the zero-energy slice from the file.
        let file = HypernetworkFile(search: search, latencyPredictor: try PredictorFile.load(ShippedData.path("Predictors/meta.gpt.json")),
                                    energyPredictor: try PredictorFile.load(ShippedData.path("Predictors/energy-meta.gpt.json")), log: search.log, rows: rows)
        // The file's generator (benchmark mode: HW-GPT-Bench's predictor) gives the search's fronts.
        #expect(file.problem == nil, "\(file.problem ?? "")")
        let first = search.devices[0]
        #expect(try file.generator(space: space).front(for: first, preferences: 24, tableIndex: nil) == search.generator.front(for: first, preferences: 24, tableIndex: nil))
        var host = try DeviceFeatures.load(ShippedData.path("Profiles/v100.gpt.json"))
        (host.device, host.energyValues, host.energyAbsentReason) = ("vm-prefill64", nil, "no energy source")
        let slice = search.generator.front(for: try file.device(host), preferences: 24, tableIndex: nil)
        #expect(slice.count == 24 && slice.allSatisfy { $0.preference[2] == 0 && $0.extraCosts[.energy] == nil })
        #expect(try file.device(try DeviceFeatures.load(ShippedData.path("Profiles/v100.gpt.json"))).energy != nil)
    }
}
