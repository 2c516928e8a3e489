/// Robust summary statistics of repeated measurements.
public struct SampleStatistics: Codable, Equatable, Sendable {
    public var count: Int
    public var median: Double
    public var mean: Double
    public var p10: Double
    public var p90: Double
    /// Median absolute deviation from the median (unscaled); nil for a single sample, which has
    /// no spread to measure.
    public var medianAbsoluteDeviation: Double?
    /// Standard deviation over mean; nil for a single sample (or a zero mean).
    public var coefficientOfVariation: Double?
    public var minimum: Double

    /// Statistics of `samples` (at least one); quantiles interpolate linearly between order statistics.
    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "SampleStatistics needs at least one sample")
        let s = samples.sorted()
        count = s.count
        median = Self.quantile(s, 0.5)
        p10 = Self.quantile(s, 0.1)
        p90 = Self.quantile(s, 0.9)
        let m = median, average = s.reduce(0, +) / Double(s.count)
        mean = average
        minimum = s[0]
        guard s.count > 1 else { return }
        medianAbsoluteDeviation = Self.quantile(s.map { abs($0 - m) }.sorted(), 0.5)
        let variance = s.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(s.count - 1)
        coefficientOfVariation = average != 0 ? variance.squareRoot() / average : nil
    }

    /// The q-quantile of sorted values, linear between order statistics.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (position - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
