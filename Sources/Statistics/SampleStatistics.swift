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

    /// The half-width of the 95 % percentile-bootstrap interval of the median of `samples`
    /// (at least one), relative to their median: 0.02 means the median is known to ±2 %; infinite
    /// for a single sample or a zero median, which say nothing of the spread.
    public static func medianIntervalRelativeHalfWidth(_ samples: [Double], resamples: Int = 400,
                                                       using rng: inout some RandomNumberGenerator) -> Double {
        precondition(!samples.isEmpty, "a bootstrap interval needs at least one sample")
        let median = quantile(samples.sorted(), 0.5)
        guard samples.count > 1, median > 0 else { return .infinity }
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var draw = [Double](repeating: 0, count: samples.count)
        for _ in 0..<resamples {
            for i in draw.indices { draw[i] = samples[Int.random(in: 0..<samples.count, using: &rng)] }
            draw.sort()
            medians.append(quantile(draw, 0.5))
        }
        medians.sort()
        return (quantile(medians, 0.975) - quantile(medians, 0.025)) / 2 / median
    }

    /// The q-quantile of sorted values, linear between order statistics.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (position - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
