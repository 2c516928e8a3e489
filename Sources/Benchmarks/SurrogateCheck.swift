import Predictors
import SearchSpaces
import Evaluation
import Search

/// How good the accuracy surrogate is before any search: its rank agreement with the whole table,
/// and the HV an exact optimiser would reach per benchmark device with it and the true latency.
public enum SurrogateCheck {
    public static func report(benchmark: NB201Benchmark, queries: Int, seed: UInt64, preferences: Int) -> String {
        let surrogate = benchmark.surrogate(queries: queries, seed: seed)
        let estimated = surrogate.errors(benchmark.index.architectures)
        let metrics = PredictionMetrics(predicted: estimated, truth: benchmark.testError)
        var lines = [String(format: "surrogate on K = %d: Spearman %.4f, Kendall %.4f over all %d architectures",
                            queries, metrics.spearman, metrics.kendall, estimated.count)]
        let (eLo, eHi) = (estimated.min()!, estimated.max()!)
        var hvs: [Double] = []
        for (device, table) in benchmark.latency.sorted(by: { $0.key < $1.key }) {
            let bounds = ObjectiveBounds(points: zip(benchmark.testError, table).map { ObjectivePoint(error: $0, latency: $1) }, gate: NB201Benchmark.chanceGate)!
            func score(_ i: Int, _ r: [Double]) -> Double {
                r[0] * (estimated[i] - eLo) / (eHi - eLo) + r[1] * bounds.normalized(ObjectivePoint(error: 0, latency: table[i])).latency
            }
            let picks = Fronts.preferences(count: preferences).map { r in table.indices.min { score($0, r) < score($1, r) }! }
            hvs.append(ParetoMetrics.hypervolume(picks.map { bounds.normalized(ObjectivePoint(error: benchmark.testError[$0], latency: table[$0])) }))
            lines.append(String(format: "  %@ HV of the picks with surrogate error and benchmark latency %.4f", device.padding(toLength: 14, withPad: " ", startingAt: 0), hvs.last!))
        }
        lines.append(String(format: "mean %.4f", hvs.reduce(0, +) / Double(hvs.count)))
        return lines.joined(separator: "\n")
    }
}
