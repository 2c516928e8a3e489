import DeviceModel
import Foundation
import NB201Space
import Evaluation
import Search
import SearchSpaces

extension FrontEvaluation {
    /// Evaluates every device of `rows` that has a benchmark table or measurements on
    /// `objectives` (the device-free costs counted as NAS-Bench-201 counts them); others are
    /// returned in `missing` with the reason.
    public static func evaluate(_ rows: [FrontRow], benchmark: NB201Benchmark, objectives: ObjectiveList = .errorAndLatency,
                                measured: [String: [String: Double]] = [:],
                                baselineBudgets: [Int] = [], seed: UInt64 = 0) -> (results: [DeviceEvaluation], missing: [String: String]) {
        var results: [DeviceEvaluation] = [], missing: [String: String] = [:]
        let devices = rows.map(\.device).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if let reason = objectives.unscoredByLatencyOnlyBenchmark(space: "NB201") { return ([], devices.reduce(into: [:]) { $0[$1] = reason }) }
        let space = NB201SearchSpace()
        let gate = NB201Benchmark.chanceGate
        let counted = benchmark.testError.indices.map { objectives.counts(benchmark.index[$0], in: space) }
        /// Official index `i` with `latency` (ms) as a point of the objectives.
        func point(_ i: Int, latency: Double) -> ObjectivePoint {
            objectives.point(error: benchmark.testError[i], latency: latency, extraCosts: counted[i])
        }
        for device in devices {
            let front = rows.filter { $0.device == device }
            let distinct = Array(Set(front.compactMap(\.archIndex))).sorted()
            if let table = benchmark.latency[device] {
                let all = table.indices.map { point($0, latency: table[$0]) }
                let bounds = ObjectiveBounds(points: all, gate: gate)!
                let points = distinct.map { all[$0] }
                let trueFront = ParetoMetrics.front(all.filter { $0.isBelow(gate) }).map(bounds.normalized)
                let found = points.map(bounds.normalized)
                var result = DeviceEvaluation(
                    device: device, latencySource: .benchmark, rows: front.count, distinct: distinct.count, points: points,
                    hypervolume: ParetoMetrics.hypervolume(found), trueHypervolume: ParetoMetrics.hypervolume(trueFront),
                    generationalDistance: ParetoMetrics.meanNearestDistance(from: found, to: trueFront),
                    invertedGenerationalDistance: ParetoMetrics.meanNearestDistance(from: trueFront, to: found),
                    bounds: bounds, baselines: [:], baselinePoints: [:])
                for (b, budget) in baselineBudgets.enumerated() where budget > 0 {
                    for (k, name) in Baselines.names.enumerated() {
                        let queried = Baselines.run(name, budget: budget, seed: seed &+ UInt64(k)) { code in
                            all[benchmark.index.index(of: NB201Architecture(code: code))]
                        }
                        let key = Baselines.key(name, budgets: baselineBudgets, at: b)
                        result.baselines[key] = ParetoMetrics.hypervolume(queried.map(bounds.normalized))
                        if b == 0 { result.baselinePoints[name] = ParetoMetrics.front(queried) }
                    }
                }
                results.append(result)
            } else if let ms = measured[device] {
                let known = front.filter { ms[$0.architecture] != nil }
                guard known.count == front.count else {
                    missing[device] = "\(front.count - known.count) of its \(front.count) front rows are not measured; measure them with modnas-profile collect --host --archs FILE"
                    continue
                }
                // No full table: latency is scaled over the device's measured architectures, the
                // other objectives over the benchmark's.
                let measuredPoints = ms.compactMap { string, latency in
                    (try? NB201Architecture(parsing: string)).map { point(benchmark.index.index(of: $0), latency: latency) }
                }
                let tableBounds = ObjectiveBounds(points: benchmark.testError.indices.map { point($0, latency: 0) }, gate: gate)!
                let latencies = measuredPoints.filter { $0.isBelow(gate) }.map(\.latency)
                guard let fastest = latencies.min(), let slowest = latencies.max() else {
                    missing[device] = "none of its measured architectures has a benchmark error below \(Int(gate)) %; measure more with modnas-profile collect --host --samples N"
                    continue
                }
                var ranges = tableBounds.ranges
                if let m = objectives.costs.firstIndex(of: .latency) { ranges[m + 1] = fastest...slowest }
                let bounds = ObjectiveBounds(ranges)
                let points = distinct.map { i in point(i, latency: ms[benchmark.index[i].string]!) }
                results.append(.measured(device: device, rows: front.count, points: points, bounds: bounds))
            } else {
                missing[device] = "no benchmark latency table and no measurements (a zero-shot test device); on that device run modnas-profile collect --host --archs with its front"
            }
        }
        return (results, missing)
    }
}
