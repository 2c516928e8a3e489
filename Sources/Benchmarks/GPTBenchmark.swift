import Autodiff
import DataFiles
import DeviceModel
import Foundation
import GPTSpace
import Predictors
import Proxies
import SearchSpaces
import Statistics
import Evaluation
import Search

/// HW-GPT-Bench's GPT-2 "s" space as shipped in `Devices/hwgpt` (Sukthanker et al., NeurIPS 2024):
/// the perplexity of 10,000 architectures (weight-sharing estimates on OpenWebText, the table's
/// values), their latency and energy on 7 training devices, and for the architectures outside
/// the table the benchmark's perplexity MLP and, per device and metric, an evaluation MLP trained
/// on all 10,000 rows (`Predictors/evaluation`). A front's point is the table's where the table
/// holds the architecture, else these estimates, and is counted as estimated.
///
/// Normalisation: perplexity and each cost min-max over the 10,000 table architectures (no chance
/// gate); reference point (1, …, 1). The true front is the table's own Pareto front: fronts leave
/// the table, so they may pass it (ratio above 1).
public struct GPTBenchmark: SearchBenchmark {
    public let predictor: GPTPerplexityPredictor
    /// The table's architectures by `arch_index` and their perplexity.
    public let architectures: [GPTArchitecture]
    public let tablePerplexity: [Double]
    /// Table values by device and `arch_index`: latency (ms) and energy (J per pass).
    public let latency: [String: [Double]]
    public let energy: [String: [Double]]
    /// Latency and energy of any architecture by device, from the evaluation MLPs.
    public let evaluationLatency: [String: DeviceObjective]
    public let evaluationEnergy: [String: DeviceObjective]
    let tableIndex: (GPTArchitecture) -> Int?

    public var space: GPTSearchSpace { GPTSearchSpace() }
    public var dataset: String { "openwebtext" }
    public var errorSource: String { "OpenWebText perplexity (HW-GPT-Bench's table; outside it, \(GPTPerplexityPredictor.label): estimates)" }
    /// Perplexity has no chance level that the table reaches: nothing is gated.
    public var chanceGate: Double? { nil }
    /// What the table's perplexities are, for the surrogate's source.
    public static let tableLabel = "HW-GPT-Bench table perplexity (supernet weights, OpenWebText)"

    /// Loads the shipped tables, perplexity predictor and evaluation predictors (from `evaluationDirectory`).
    public static func shipped(evaluationDirectory: String? = nil) throws -> GPTBenchmark {
        let space = GPTSearchSpace()
        let archs = try GPTSearchSpace.shippedArchitectures()
        let perplexity = try CSVTable(contentsOf: ShippedData.path(GPTSearchSpace.shippedTable)).numericColumn("perplexity")
        guard perplexity.count == archs.count else {
            throw SearchError.badFile(reason: "\(GPTSearchSpace.shippedTable) has \(perplexity.count) perplexities for \(archs.count) architectures")
        }
        let index = try space.tableIndexer()
        /// A metric's table values in `arch_index` order, by device.
        func values(_ metric: DeviceMetric) throws -> [String: [Double]] {
            var byDevice: [String: [Double]] = [:]
            for d in try BenchmarkTables.trainingDevices(space: space, metric: metric) {
                var row = [Double](repeating: .nan, count: archs.count)
                for (string, value) in zip(d.architectures, d.values) { row[index(try space.parse(string))!] = value }
                guard row.allSatisfy(\.isFinite) else { throw SearchError.badFile(reason: "the GPT \(metric) table of \(d.device) misses architectures") }
                byDevice[d.device] = row
            }
            return byDevice
        }
        let latency = try values(.latency), energy = try values(.energy)
        return GPTBenchmark(predictor: try GPTPerplexityPredictor.shipped(), architectures: archs, tablePerplexity: perplexity,
                            latency: latency, energy: energy,
                            evaluationLatency: try EvaluationPredictors.load(devices: Array(latency.keys), space: .gpt, directory: evaluationDirectory),
                            evaluationEnergy: try EvaluationPredictors.load(devices: Array(energy.keys), space: .gpt, metric: .energy,
                                                                            directory: evaluationDirectory),
                            tableIndex: index)
    }

    /// `count` distinct seeded table rows, queried for their perplexity.
    public func surrogateQueries(count: Int, seed: UInt64) -> [Int] { TableSurrogate.queries(count: count, rows: architectures.count, seed: seed) }

    public func surrogate(queries count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate {
        try TableSurrogate.fit(space: space, architectures: architectures, losses: tablePerplexity, count: count, seed: seed, ensembleSize: ensembleSize,
                               source: Self.tableLabel, chanceError: nil)
    }

    public func differentiableAccuracy() throws -> (any AccuracyObjective<GPTArchitecture>)? { BenchmarkModelAccuracy(predictor, space: space) }

    /// The proxy mode: the non-embedding parameter count (`GPTCost.nonEmbeddingParameters`) of
    /// `count` sampled architectures, as rank pseudo-losses; no perplexity is queried.
    public func trainingFreeSurrogate(count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate? {
        let space = self.space
        let sampled = space.sample(count: count, seed: seed &+ 1_000_003)
        let parameters = sampled.map { Double(GPTCost($0).nonEmbeddingParameters) }
        let losses = ProxySurrogate.pseudoErrors(meanRanks: ProxyVote.meanRanks([parameters]))
        let source = "rank of the non-embedding parameter count (LiteTransformerSearch's proxy) of \(count) sampled architectures, "
            + "as pseudo-losses \(Int(ProxySurrogate.pseudoErrors.lowerBound))–\(Int(ProxySurrogate.pseudoErrors.upperBound)) (estimated; no perplexity queried)"
        return AccuracySurrogate.fit(space: space, architectures: sampled, errors: losses, queried: [], source: source, chanceError: nil,
                                     ensembleSize: ensembleSize, seed: seed)
    }

    /// Spearman ρ of the table's perplexities with the non-embedding and with the total parameter
    /// count (negative: more parameters, lower perplexity).
    public func parameterRankCheck() -> (nonEmbedding: Double, total: Double) {
        let costs = architectures.map { GPTCost($0) }
        return (RankCorrelation.spearman(costs.map { Double($0.nonEmbeddingParameters) }, tablePerplexity),
                RankCorrelation.spearman(costs.map { Double($0.parameters) }, tablePerplexity))
    }

    public func points(device: String) -> [ObjectivePoint]? {
        latency[device].map { zip(tablePerplexity, $0).map { ObjectivePoint(error: $0, latency: $1) } }
    }

    public var pointsAreTheWholeSpace: Bool { false }
    public var errorLabel: String { "HW-GPT-Bench" }
    public var normalization: String {
        "perplexity and the costs, each min-max over the 10,000 table architectures; reference point (1, …, 1)"
    }
    public var baselineObjectives: String { "the evaluation's perplexity and costs (the table's, else estimated)" }

    public func evaluationHeading(searchEstimates: Bool) -> String {
        "GPT: perplexity, latency and energy from HW-GPT-Bench's table where it holds an architecture, else estimated (its perplexity predictor, "
            + "an evaluation MLP per device trained on the 10,000 rows); normalised over the 10,000 table architectures; "
            + "true front: the table's own Pareto front (fronts may pass it)\n"
    }

    /// The perplexity of each architecture: the table's, else the predictor's (estimated).
    func perplexities(_ archs: [GPTArchitecture]) -> [(value: Double, estimated: Bool)] {
        let rows = archs.map(tableIndex)
        var predicted = predictor.perplexity(archs.indices.filter { rows[$0] == nil }.map { archs[$0] }).makeIterator()
        return rows.map { row in row.map { (tablePerplexity[$0], false) } ?? (predicted.next()!, true) }
    }

    /// The architectures' points on table device `device` and whether each is estimated (outside the table).
    func scored(_ archs: [GPTArchitecture], device: String, objectives: ObjectiveList) -> [(point: ObjectivePoint, estimated: Bool)] {
        let space = self.space
        let rows = archs.map(tableIndex)
        let outside = archs.indices.filter { rows[$0] == nil }.map { archs[$0] }
        var ms = (evaluationLatency[device]?.predictions(outside, in: space) ?? []).makeIterator()
        var joules = (objectives.needsEnergy ? evaluationEnergy[device]?.predictions(outside, in: space) ?? [] : []).makeIterator()
        return zip(archs, perplexities(archs)).enumerated().map { i, item in
            let (a, perplexity) = item
            var extra = objectives.counts(a, in: space)
            let ms = rows[i].map { latency[device]![$0] } ?? ms.next()!
            if objectives.needsEnergy { extra[.energy] = rows[i].map { energy[device]![$0] } ?? joules.next()! }
            return (objectives.point(error: perplexity.value, latency: ms, extraCosts: extra), perplexity.estimated)
        }
    }

    public func evaluate(_ rows: [FrontRow], objectives: ObjectiveList, measured: [String: [String: Double]], baselineBudgets: [Int],
                         seed: UInt64) -> (results: [DeviceEvaluation], missing: [String: String]) {
        var results: [DeviceEvaluation] = [], missing: [String: String] = [:]
        let space = self.space
        let devices = rows.map(\.device).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for device in devices {
            let front = rows.filter { $0.device == device }
            let archs = Array(Set(front.map(\.architecture))).sorted().compactMap { try? space.parse($0) }
            if latency[device] != nil {
                let table = scored(architectures, device: device, objectives: objectives).map(\.point)
                let bounds = ObjectiveBounds(points: table, gate: nil)!
                let trueFront = ParetoMetrics.front(table).map(bounds.normalized)
                let found = scored(archs, device: device, objectives: objectives)
                let normalized = found.map { bounds.normalized($0.point) }
                var result = DeviceEvaluation(device: device, latencySource: .benchmark, rows: front.count, distinct: archs.count,
                                              points: found.map(\.point), hypervolume: ParetoMetrics.hypervolume(normalized),
                                              trueHypervolume: ParetoMetrics.hypervolume(trueFront),
                                              generationalDistance: ParetoMetrics.meanNearestDistance(from: normalized, to: trueFront),
                                              invertedGenerationalDistance: ParetoMetrics.meanNearestDistance(from: trueFront, to: normalized),
                                              bounds: bounds, baselines: [:], baselinePoints: [:])
                result.estimatedPoints = found.filter(\.estimated).count
                let moves = ChoiceMoves(space: space)
                for (b, budget) in baselineBudgets.enumerated() where budget > 0 {
                    for (k, name) in Baselines.names.enumerated() {
                        let queried = Baselines.run(name, moves: moves, budget: budget, seed: seed &+ UInt64(k)) { key in
                            scored([space.architecture(choices: key.choices)], device: device, objectives: objectives)[0].point
                        }
                        let key = Baselines.key(name, budgets: baselineBudgets, at: b)
                        result.baselines[key] = ParetoMetrics.hypervolume(queried.map(bounds.normalized))
                        if b == 0 { result.baselinePoints[name] = ParetoMetrics.front(queried) }
                    }
                }
                results.append(result)
            } else if let measuredLatency = measured[device] {
                // A host's measurements hold latency only: it is scored on the other objectives.
                let absent = objectives.costs.filter { $0 == .energy }
                let objectives = ObjectiveList(costs: objectives.costs.filter { !absent.contains($0) }, loss: objectives.loss)
                let ms = measuredLatency
                let strings = archs.map(space.string(of:))
                guard strings.allSatisfy({ ms[$0] != nil }) else {
                    missing[device] = "\(strings.filter { ms[$0] == nil }.count) of its \(strings.count) front architectures are not measured; "
                        + "measure them with modnas-profile collect --host --space gpt --archs FILE"
                    continue
                }
                // Perplexity (and the counts) over the table; latency over the host's measured architectures.
                let perplexities = self.perplexities(archs)
                let points = archs.indices.map { i in
                    objectives.point(error: perplexities[i].value, latency: ms[strings[i]]!, extraCosts: objectives.counts(archs[i], in: space))
                }
                let tableCounts = architectures.map { objectives.counts($0, in: space) }
                let bounds = ObjectiveBounds([tablePerplexity.min()!...tablePerplexity.max()!] + objectives.costs.map { cost in
                    let values = cost == .latency ? Array(ms.values) : tableCounts.map { $0[cost]! }
                    return values.min()!...values.max()!
                })
                var result = DeviceEvaluation.measured(device: device, rows: front.count, points: points, bounds: bounds)
                result.estimatedPoints = perplexities.filter(\.estimated).count
                result.absentCosts = absent.isEmpty ? nil : absent
                results.append(result)
            } else {
                missing[device] = "no table and no measurements (a zero-shot device); on that device run modnas-profile collect --host --space gpt --archs with its front"
            }
        }
        return (results, missing)
    }
}
