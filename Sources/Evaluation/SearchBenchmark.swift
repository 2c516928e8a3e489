import Autodiff
import SearchSpaces
import Search

/// A space's benchmark as a search uses it: where the accuracy objective comes from, and how
/// fronts are scored afterwards (NB201: tables of every architecture; OFA: an accuracy predictor
/// and latency tables of 5,000 architectures).
public protocol SearchBenchmark {
    associatedtype Space: SearchSpace
    var space: Space { get }
    /// The data set the accuracy is of (stored in the search's configuration).
    var dataset: String { get }
    /// What the evaluation's error is, in words (e.g. "cifar10 test error, NB201 200 epochs").
    var errorSource: String { get }
    /// The loss at and above which an architecture is at chance and left out of every
    /// normalisation, the search's and the evaluation's (nil: the benchmark has none).
    var chanceGate: Double? { get }
    /// The accuracy surrogate fitted on `queries` seeded benchmark queries.
    func surrogate(queries: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate
    /// The benchmark's own differentiable accuracy objective, where it has one (OFA's predictor).
    func differentiableAccuracy() throws -> (any AccuracyObjective<Space.Architecture>)?
    /// The proxy mode's surrogate when the space has a training-free proxy of its own (GPT: the
    /// non-embedding parameter count) fitted on `count` sampled architectures; nil: the proxy
    /// mode votes zero-cost proxies of trained-from-scratch networks on data.
    func trainingFreeSurrogate(count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate?
    /// Scores each device's front on `objectives`: benchmark settings against the benchmark,
    /// profiled hosts with `measured` latencies (ms by architecture string); the others are in `missing`.
    /// `baselineBudgets`: the architectures each baseline queries per benchmark device, one run per budget.
    func evaluate(_ rows: [FrontRow], objectives: ObjectiveList, measured: [String: [String: Double]], baselineBudgets: [Int],
                  seed: UInt64) -> (results: [DeviceEvaluation], missing: [String: String])
    /// Every table architecture of a benchmark setting as (error, latency), for plots; nil without a table.
    func points(device: String) -> [ObjectivePoint]?
    /// Whether `points` holds every architecture of the space (then fronts have a true front).
    var pointsAreTheWholeSpace: Bool { get }
    /// Lines printed above the evaluation table (what its numbers are).
    func evaluationHeading(searchEstimates: Bool) -> String
    /// Where the evaluation's error comes from, for plot axes ("benchmark", "OFA accuracy predictor").
    var errorLabel: String { get }
    /// How the evaluation normalises its objectives, in words.
    var normalization: String { get }
    /// What the baselines query, in words.
    var baselineObjectives: String { get }
}

extension SearchBenchmark {
    /// Mean HV over the benchmark settings among `rows` (nil when there is none).
    public func meanBenchmarkHypervolume(_ rows: [FrontRow], objectives: ObjectiveList) -> Double? {
        let results = evaluate(rows, objectives: objectives, measured: [:], baselineBudgets: [], seed: 0).results.filter(\.latencySource.isBenchmark)
        return results.isEmpty ? nil : results.map(\.hypervolume).reduce(0, +) / Double(results.count)
    }
}

/// A surrogate fitted on `count` distinct seeded rows of a benchmark table of `architectures`
/// and their `losses` (OFA's and GPT's: no gate, every row may be queried).
public enum TableSurrogate {
    /// The queried rows, sorted.
    public static func queries(count: Int, rows: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed &+ 1_000_003)
        var order = Array(0..<rows)
        rng.shuffle(&order)
        return order.prefix(count).sorted()
    }

    public static func fit<S: SearchSpace>(space: S, architectures: [S.Architecture], losses: [Double], count: Int, seed: UInt64, ensembleSize: Int,
                                    source: String, chanceError: Double?) throws -> AccuracySurrogate {
        guard count <= architectures.count else {
            throw SearchError.badConfiguration("--queries \(count) exceeds the \(architectures.count) architectures of the \(space.name.shortName) table")
        }
        let queried = queries(count: count, rows: architectures.count, seed: seed)
        return AccuracySurrogate.fit(space: space, architectures: queried.map { architectures[$0] }, errors: queried.map { losses[$0] },
                                     queried: queried, source: source, chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }
}
