import Autodiff
import DataFiles
import Foundation
import Predictors
import SearchSpaces
import NB201Space
import Evaluation
import Search

/// The tabular NB201 benchmark as shipped in `Devices/nb201`: test error per architecture and the
/// latency tables of the 13 training devices (Dong & Yang, ICLR 2020; Lee et al., NeurIPS 2021).
public struct NB201Benchmark: Sendable {
    public static let datasets = ["cifar10", "cifar100", "imagenet16_120"]
    /// The paper's gate (MODNAS.md): architectures at or above 90 % test error (CIFAR-10's
    /// chance) are left out of every normalisation, on every data set.
    public static let chanceGate = 90.0

    public let index: NB201Index
    public let dataset: String
    /// Test error (%) after 200 epochs by official index.
    public let testError: [Double]
    /// Benchmark latency (ms) by device and official index.
    public let latency: [String: [Double]]

    /// Loads the shipped tables for `dataset`.
    public static func shipped(index: NB201Index, dataset: String = "cifar10") throws -> NB201Benchmark {
        guard datasets.contains(dataset) else {
            throw SearchError.badConfiguration("unknown NB201 dataset '\(dataset)'; use one of \(datasets.joined(separator: ", "))")
        }
        let accuracy = try CSVTable(contentsOf: ShippedData.path(NB201Index.shippedTable)).numericColumn(dataset)
        var latency: [String: [Double]] = [:]
        for d in try BenchmarkTables.trainingDevices(space: NB201SearchSpace()) { latency[d.device] = d.values }
        return NB201Benchmark(index: index, dataset: dataset, testError: accuracy.map { 100 - $0 }, latency: latency)
    }

    /// Every architecture as (error, benchmark latency) on `device`, or nil without a table.
    public func points(device: String) -> [ObjectivePoint]? {
        latency[device].map { zip(testError, $0).map { ObjectivePoint(error: $0, latency: $1) } }
    }

    /// Classes of the dataset (10, 100 or 120).
    public var classes: Int { ["cifar10": 10, "cifar100": 100, "imagenet16_120": 120][dataset] ?? 10 }

    /// The error (%) of a network that outputs a constant.
    public var chanceError: Double { 100 * (1 - 1 / Double(classes)) }

    /// `count` distinct seeded architectures to query for the surrogate, connected cells only
    /// (a disconnected one is at chance without asking), as sorted official indices.
    public func surrogateQueries(count: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed &+ 1_000_003)
        var codes = (0..<NB201Architecture.spaceSize).filter { PathEncoding.isConnected(NB201Architecture(code: $0)) }
        rng.shuffle(&codes)
        return codes.prefix(count).map { index.index(of: NB201Architecture(code: $0)) }.sorted()
    }

    /// The accuracy surrogate fitted on the errors of the `queried` architectures (official indices).
    public func surrogate(queried: [Int], seed: UInt64, ensembleSize: Int = 3) -> AccuracySurrogate {
        AccuracySurrogate.fit(architectures: queried.map { index[$0] }, errors: queried.map { testError[$0] }, queried: queried.sorted(),
                              source: errorSource, chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }

    /// The accuracy surrogate fitted on `count` seeded random queries.
    public func surrogate(queries count: Int, seed: UInt64, ensembleSize: Int = 3) -> AccuracySurrogate {
        surrogate(queried: surrogateQueries(count: count, seed: seed), seed: seed, ensembleSize: ensembleSize)
    }

    /// A description of where the errors come from.
    public var errorSource: String { "\(dataset) test accuracy after 200 epochs (NAS-Bench-201 table)" }
}

extension NB201Benchmark: SearchBenchmark {
    public var space: NB201SearchSpace { NB201SearchSpace() }

    public func differentiableAccuracy() throws -> (any AccuracyObjective<NB201Architecture>)? { nil }
    public func trainingFreeSurrogate(count: Int, seed: UInt64, ensembleSize: Int) throws -> AccuracySurrogate? { nil }
    public var chanceGate: Double? { Self.chanceGate }

    public func evaluate(_ rows: [FrontRow], objectives: ObjectiveList, measured: [String: [String: Double]], baselineBudgets: [Int],
                         seed: UInt64) -> (results: [DeviceEvaluation], missing: [String: String]) {
        FrontEvaluation.evaluate(rows, benchmark: self, objectives: objectives, measured: measured, baselineBudgets: baselineBudgets, seed: seed)
    }

    public var pointsAreTheWholeSpace: Bool { true }
    public var errorLabel: String { "benchmark" }
    public var normalization: String {
        "test error (%) and the costs, each min-max over the benchmark's architectures with error < \(Int(Self.chanceGate)) %; reference point (1, …, 1)"
    }
    public var baselineObjectives: String { "benchmark error and latency" }

    public func evaluationHeading(searchEstimates: Bool) -> String {
        searchEstimates ? "HV with the NB201 benchmark's \(errorSource) as the error of the fronts' architectures (the search's estimates are in fronts.csv)\n" : ""
    }
}
