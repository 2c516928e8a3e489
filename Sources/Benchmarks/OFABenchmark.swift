import Autodiff
import DataFiles
import Foundation
import Predictors
import SearchSpaces
import OFASpace
import Evaluation
import Search

/// The OFA benchmark as shipped in `Devices/ofa` and `Predictors/evaluation`: Once-for-All's
/// ImageNet accuracy predictor (estimates, labelled `OFAAccuracyPredictor.label`), the latency
/// tables of 5,000 architectures on 11 GPU settings, and per setting an evaluation latency
/// predictor trained on all 5,000 rows (a front's architectures are almost never in the table,
/// so their latency on a setting is predicted, and labelled so).
///
/// Normalisation (MODNAS.md): error = 100·(1 − predicted top-1) and table latency, each min-max
/// over the 5,000 table architectures; reference point (1, 1). No true front exists, so GD and
/// IGD are against the best front any method of the run found.
public struct OFABenchmark: SearchBenchmark {
    public let predictor: OFAAccuracyPredictor
    /// The table's architectures in row order and their estimated error (%).
    public let architectures: [OFAArchitecture]
    public let tableError: [Double]
    /// The range of `tableError` below the chance gate: the evaluation's error bounds.
    public let tableErrorRange: ClosedRange<Double>
    /// Table latency (ms) by setting and row.
    public let latency: [String: [Double]]
    /// Latency of any architecture by setting, from predictors trained on all the setting's rows.
    public let evaluationLatency: [String: DeviceObjective]

    public var space: OFASearchSpace { OFASearchSpace() }
    public var dataset: String { "imagenet" }
    public var errorSource: String { "100 − \(OFAAccuracyPredictor.label) (an estimate)" }
    /// NB201's 90 %, kept for OFA: the predictor's errors stay far below it (ImageNet's chance is 99.9 %).
    public static let chanceGate = 90.0
    public var chanceGate: Double? { Self.chanceGate }

    /// Loads the shipped predictor, tables and evaluation predictors (from `evaluationDirectory`).
    public static func shipped(evaluationDirectory: String? = nil) throws -> OFABenchmark {
        let predictor = try OFAAccuracyPredictor.shipped()
        let space = OFASearchSpace()
        let archs = try BenchmarkTables.architectures(space: space)
        var latency: [String: [Double]] = [:]
        for d in try BenchmarkTables.trainingDevices(space: space) { latency[d.device] = d.values }
        let evaluation = try EvaluationPredictors.load(devices: Array(latency.keys), space: .ofa, directory: evaluationDirectory)
        let errors = predictor.topOne(archs).map { 100 * (1 - $0) }, kept = errors.filter { $0 < chanceGate }
        return OFABenchmark(predictor: predictor, architectures: archs, tableError: errors, tableErrorRange: kept.min()!...kept.max()!,
                            latency: latency, evaluationLatency: evaluation)
    }

    /// `count` distinct seeded table rows, queried for their estimated error.
    public func surrogateQueries(count: Int, seed: UInt64) -> [Int] { TableSurrogate.queries(count: count, rows: architectures.count, seed: seed) }

    public func surrogate(queries count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate {
        try TableSurrogate.fit(space: space, architectures: architectures, losses: tableError, count: count, seed: seed, ensembleSize: ensembleSize,
                               source: OFAAccuracyPredictor.label, chanceError: 99.9)
    }

    public func differentiableAccuracy() throws -> (any AccuracyObjective<OFAArchitecture>)? { BenchmarkModelAccuracy(predictor, space: space) }
    public func trainingFreeSurrogate(count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate? { nil }

    public func points(device: String) -> [ObjectivePoint]? {
        latency[device].map { zip(tableError, $0).map { ObjectivePoint(error: $0, latency: $1) } }
    }

    public var pointsAreTheWholeSpace: Bool { false }
    public var errorLabel: String { "OFA accuracy predictor" }
    public var normalization: String {
        "error = 100 − \(OFAAccuracyPredictor.label) (an estimate) and latency, each min-max over the 5,000 table architectures; reference point (1, 1)"
    }
    public var baselineObjectives: String { "the evaluation's estimated error and predicted latency" }

    public func evaluationHeading(searchEstimates: Bool) -> String {
        "OFA: error = 100 − \(OFAAccuracyPredictor.label) (an estimate, not a measurement); latency of a benchmark setting predicted by an evaluation MLP trained on all 5,000 table rows; "
            + "normalised over the 5,000 table architectures; GD and IGD against the best front of the run\n"
    }

    /// The bounds of `objectives`: the table's error bounds, a device's latency bounds (its
    /// table, else `latencies`), the device-free costs' over the table's architectures (`tableCounts`).
    func bounds(device: String, latencies: [Double], objectives: ObjectiveList, tableCounts: [[CostObjective: Double]]) -> ObjectiveBounds {
        let ms = latency[device] ?? latencies
        return ObjectiveBounds([tableErrorRange] + objectives.costs.map { cost in
            let values = cost == .latency ? ms : tableCounts.map { $0[cost]! }
            return values.min()!...values.max()!
        })
    }

    public func evaluate(_ rows: [FrontRow], objectives: ObjectiveList, measured: [String: [String: Double]], baselineBudgets: [Int],
                         seed: UInt64) -> (results: [DeviceEvaluation], missing: [String: String]) {
        var results: [DeviceEvaluation] = [], missing: [String: String] = [:]
        let devices = rows.map(\.device).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if let reason = objectives.unscoredByLatencyOnlyBenchmark(space: "OFA") { return ([], devices.reduce(into: [:]) { $0[$1] = reason }) }
        let space = self.space
        let tableCounts = architectures.map { objectives.counts($0, in: space) }
        /// An architecture with its estimated error and latency (ms) as a point of the objectives.
        func point(_ a: OFAArchitecture, error: Double, latency: Double) -> ObjectivePoint {
            objectives.point(error: error, latency: latency, extraCosts: objectives.counts(a, in: space))
        }
        for device in devices {
            let front = rows.filter { $0.device == device }
            let strings = Array(Set(front.map(\.architecture))).sorted()
            let archs = strings.compactMap { try? space.parse($0) }
            let errors = predictor.topOne(archs).map { 100 * (1 - $0) }
            if let objective = evaluationLatency[device] {
                let ms = objective.predictions(archs, in: space)
                let points = archs.indices.map { point(archs[$0], error: errors[$0], latency: ms[$0]) }
                let bounds = bounds(device: device, latencies: [], objectives: objectives, tableCounts: tableCounts)
                var result = DeviceEvaluation(device: device, latencySource: .predicted, rows: front.count, distinct: archs.count, points: points,
                                              hypervolume: ParetoMetrics.hypervolume(points.map(bounds.normalized)), trueHypervolume: nil,
                                              generationalDistance: nil, invertedGenerationalDistance: nil, bounds: bounds,
                                              baselines: [:], baselinePoints: [:])
                let moves = ChoiceMoves(space: space)
                for (b, budget) in baselineBudgets.enumerated() where budget > 0 {
                    for (k, name) in Baselines.names.enumerated() {
                        let queried = Baselines.run(name, moves: moves, budget: budget, seed: seed &+ UInt64(k)) { key in
                            let a = space.architecture(choices: key.choices)
                            return point(a, error: 100 * (1 - predictor.topOne([a])[0]), latency: objective.predictions([a], in: space)[0])
                        }
                        let key = Baselines.key(name, budgets: baselineBudgets, at: b)
                        result.baselines[key] = ParetoMetrics.hypervolume(queried.map(bounds.normalized))
                        if b == 0 { result.baselinePoints[name] = ParetoMetrics.front(queried) }
                    }
                }
                // No true front: distances to the best front of every method of the run.
                let best = ParetoMetrics.front((points + result.baselinePoints.values.joined()).map(bounds.normalized))
                let found = points.map(bounds.normalized)
                result.generationalDistance = ParetoMetrics.meanNearestDistance(from: found, to: best)
                result.invertedGenerationalDistance = ParetoMetrics.meanNearestDistance(from: best, to: found)
                results.append(result)
            } else if let ms = measured[device] {
                guard strings.allSatisfy({ ms[$0] != nil }) else {
                    missing[device] = "\(strings.filter { ms[$0] == nil }.count) of its \(strings.count) front architectures are not measured; "
                        + "measure them with modnas-profile collect --host --space ofa --archs FILE"
                    continue
                }
                let bounds = bounds(device: device, latencies: Array(ms.values), objectives: objectives, tableCounts: tableCounts)
                let points = archs.indices.map { point(archs[$0], error: errors[$0], latency: ms[strings[$0]]!) }
                results.append(.measured(device: device, rows: front.count, points: points, bounds: bounds))
            } else {
                missing[device] = "no latency table and no measurements (a zero-shot device); on that device run modnas-profile collect --host --space ofa --archs with its front"
            }
        }
        return (results, missing)
    }
}
