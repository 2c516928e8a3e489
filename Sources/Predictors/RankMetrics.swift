import Foundation
import Statistics

/// Accuracy of predicted against true latencies.
public struct PredictionMetrics: Codable, Equatable, Sendable {
    public var count: Int
    public var spearman: Double
    public var kendall: Double
    /// Mean absolute percentage error, in percent.
    public var mape: Double
    /// Root mean squared error, in the metric's unit.
    public var rmse: Double
    /// Share of predictions within ±10 % of the truth, in percent.
    public var within10: Double

    /// Metrics of `predicted` against `truth` (same order, positive truths).
    public init(predicted: [Double], truth: [Double]) {
        precondition(predicted.count == truth.count && !truth.isEmpty, "metrics need equal, non-empty lists")
        count = truth.count
        spearman = Self.spearman(predicted, truth)
        kendall = Self.kendallTau(predicted, truth)
        let rel = zip(predicted, truth).map { abs($0 - $1) / $1 }
        mape = 100 * rel.reduce(0, +) / Double(count)
        rmse = (zip(predicted, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(count)).squareRoot()
        within10 = 100 * Double(rel.filter { $0 <= 0.1 }.count) / Double(count)
    }

    /// Ranks with ties given their average rank (1-based).
    static func ranks(_ x: [Double]) -> [Double] { RankCorrelation.ranks(x) }

    /// Spearman's ρ: Pearson correlation of the tie-averaged ranks.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double { RankCorrelation.spearman(a, b) }

    /// Kendall's τ-b (ties in either list reduce the denominator).
    public static func kendallTau(_ a: [Double], _ b: [Double]) -> Double { RankCorrelation.kendallTau(a, b) }
}
