import DeviceModel
import Foundation
import SearchSpaces
import Search

/// Where an evaluation's latencies come from.
public enum EvaluationLatency: String, Codable, Sendable {
    /// A benchmark's table of every architecture (NB201).
    case benchmark
    /// Measured on a profiled host.
    case measured
    /// An evaluation predictor trained on a benchmark table's rows (OFA: no table holds the fronts).
    case predicted

    /// Whether the device is a benchmark setting (the means are over these).
    public var isBenchmark: Bool { self != .measured }
}

/// How good one device's front is against the benchmark (or the host's measurements).
public struct DeviceEvaluation: Codable, Equatable, Sendable {
    public var device: String
    /// Where the latencies came from.
    public var latencySource: EvaluationLatency
    /// Rows of the front and distinct architectures among them.
    public var rows: Int
    public var distinct: Int
    /// The front's objectives (test error %, latency ms), one per distinct architecture.
    public var points: [ObjectivePoint]
    public var hypervolume: Double
    /// HV of the true Pareto front (nil without a full latency table).
    /// GD and IGD are against the true front, or else against the best front of the run.
    public var trueHypervolume: Double?
    public var generationalDistance: Double?
    public var invertedGenerationalDistance: Double?
    public var bounds: ObjectiveBounds
    /// Baseline HVs at equal budget, by name (benchmark devices only).
    public var baselines: [String: Double]
    public var baselinePoints: [String: [ObjectivePoint]]
    /// Of `points`, those scored by a benchmark's estimates because its table does not hold the
    /// architecture (GPT); nil where every point is a table's value or a measurement.
    public var estimatedPoints: Int?
    /// The objectives the device has no values of (energy on a host without RAPL): `points` and
    /// the HV leave them out; nil when it has them all.
    public var absentCosts: [CostObjective]?

    public init(device: String, latencySource: EvaluationLatency, rows: Int, distinct: Int, points: [ObjectivePoint], hypervolume: Double,
                trueHypervolume: Double?, generationalDistance: Double?, invertedGenerationalDistance: Double?, bounds: ObjectiveBounds,
                baselines: [String: Double], baselinePoints: [String: [ObjectivePoint]], estimatedPoints: Int? = nil, absentCosts: [CostObjective]? = nil) {
        (self.device, self.latencySource, self.rows, self.distinct, self.points, self.hypervolume) = (device, latencySource, rows, distinct, points, hypervolume)
        (self.trueHypervolume, self.generationalDistance, self.invertedGenerationalDistance) = (trueHypervolume, generationalDistance, invertedGenerationalDistance)
        (self.bounds, self.baselines, self.baselinePoints, self.estimatedPoints, self.absentCosts) = (bounds, baselines, baselinePoints, estimatedPoints, absentCosts)
    }

    /// A profiled host's evaluation: `points` on its measured latency, HV under `bounds`, no true
    /// front, no GD or IGD, no baselines.
    public static func measured(device: String, rows: Int, points: [ObjectivePoint], bounds: ObjectiveBounds) -> DeviceEvaluation {
        DeviceEvaluation(device: device, latencySource: .measured, rows: rows, distinct: points.count, points: points,
                         hypervolume: ParetoMetrics.hypervolume(points.map(bounds.normalized)), trueHypervolume: nil,
                         generationalDistance: nil, invertedGenerationalDistance: nil, bounds: bounds, baselines: [:], baselinePoints: [:])
    }

    public var ratio: Double? { trueHypervolume.map { hypervolume / $0 } }
}

/// Scores fronts with the paper's normalisation: test error (%) and latency, each min-max scaled
/// over the benchmark's architectures with error below its chance gate, reference point (1, 1).
public enum FrontEvaluation {
    /// The baselines that ran for some device, in table order (each at the first budget, then at the others).
    public static func baselineColumns(_ results: [DeviceEvaluation]) -> [String] {
        let keys = Set(results.flatMap(\.baselines.keys))
        let others = keys.filter { !Baselines.names.contains($0) }.sorted { a, b in
            let budget = { (k: String) in Int(k.split(separator: "@").last ?? "") ?? 0 }
            let order = { (k: String) in Baselines.names.firstIndex { k.hasPrefix($0 + " @") } ?? 0 }
            return (-budget(a), order(a)) < (-budget(b), order(b))
        }
        return Baselines.names.filter(keys.contains) + others
    }

    /// Over the benchmark devices: their count and the mean HV, true HV, ratio, GD, IGD and HV of
    /// each baseline in `baselines` (a value is nil where no device has it; nil when no device has benchmark latencies).
    public static func benchmarkMeans(_ results: [DeviceEvaluation], baselines: [String]) -> (count: Int, values: [Double?])? {
        let bench = results.filter(\.latencySource.isBenchmark)
        guard !bench.isEmpty else { return nil }
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        let columns: [(DeviceEvaluation) -> Double?] = [{ $0.hypervolume }, \.trueHypervolume, \.ratio, \.generationalDistance, \.invertedGenerationalDistance]
            + baselines.map { n in { $0.baselines[n] } }
        return (bench.count, columns.map { column in mean(bench.compactMap(column)) })
    }

    /// What each method's HV cost in accuracy queries (the expensive part: a trained network's
    /// accuracy); `modnasQueries` nil where the search's are not known (a fronts file alone).
    public static func budgetLine(modnasQueries: Int?, trainingDevices: Int, baselineBudgets: [Int], benchmarkDevices: Int) -> String {
        var parts: [String] = []
        if let q = modnasQueries {
            parts.append(q > 0 ? "MODNAS \(q) in all (shared by its \(trainingDevices) training devices)" : "MODNAS none (no benchmark accuracy queried)")
        }
        for (k, budget) in baselineBudgets.enumerated() where budget > 0 {
            parts.append((k == 0 ? "each baseline column" : "each '@\(budget)' column") + " \(budget) per benchmark device (\(budget * benchmarkDevices) over the \(benchmarkDevices))"
                         + (k > 0 && modnasQueries != nil ? ", MODNAS's total" : ""))
        }
        return parts.isEmpty ? "" : "accuracy queries: " + parts.joined(separator: "; ") + "\n"
    }

    /// A line naming the clock of each measured host's latencies (empty without any).
    public static func measuredClocks(_ clocks: [String: LatencyClock]) -> String {
        clocks.isEmpty ? "" : "measured latency: " + clocks.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value.label)" }.joined(separator: ", ") + "\n"
    }

    public static func table(_ results: [DeviceEvaluation], missing: [String: String]) -> String {
        let names = baselineColumns(results)
        // The count of estimated points, where a benchmark scores some architectures off its table.
        let estimates = results.contains { $0.estimatedPoints != nil }
        let widths = [16, 9, 5] + (estimates ? [6] : []) + [7, 7, 6, 7, 7] + names.map { max(14, $0.count + 3) }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { k, cell in
                let (text, width) = cell
                let padding = String(repeating: " ", count: max(width - text.count, 0))
                return k < 2 ? text + padding : padding + text
            }.joined(separator: " ")
        }
        func f(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        var lines = [line(["device", "latency", "archs"] + (estimates ? ["est."] : []) + ["HV", "true HV", "ratio", "GD", "IGD"] + names.map { "HV \($0)" })]
        for r in results {
            let counts: [String] = [r.device, r.latencySource.rawValue, String(r.distinct)] + (estimates ? [r.estimatedPoints.map(String.init) ?? "—"] : [])
            let metrics: [String] = [f(r.hypervolume), f(r.trueHypervolume), f(r.ratio, 3), f(r.generationalDistance), f(r.invertedGenerationalDistance)]
            lines.append(line(counts + metrics + names.map { f(r.baselines[$0]) }))
        }
        if let (count, means) = benchmarkMeans(results, baselines: names) {
            let sources = Set(results.map(\.latencySource).filter(\.isBenchmark))
            let estimated = results.filter(\.latencySource.isBenchmark).compactMap(\.estimatedPoints).reduce(0, +)
            lines.append(line(["mean", sources.count == 1 ? sources.first!.rawValue : "benchmark", String(count)] + (estimates ? [String(estimated)] : [])
                              + means.enumerated().map { f($1, $0 == 2 ? 3 : 4) }))
        }
        for r in results where !(r.absentCosts ?? []).isEmpty {
            lines.append("\(r.device): scored without \(r.absentCosts!.map(\.rawValue).joined(separator: ", ")) (the device has none): its front is the slice with zero preference for it")
        }
        for (device, reason) in missing.sorted(by: { $0.key < $1.key }) { lines.append("\(device): not evaluated: \(reason)") }
        return lines.joined(separator: "\n")
    }
}
