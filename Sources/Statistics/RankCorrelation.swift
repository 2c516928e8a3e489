/// Rank agreement of two paired lists: Spearman's ρ and Kendall's τ-b.
public enum RankCorrelation {
    /// Ranks with ties given their average rank (1-based).
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// Spearman's ρ: Pearson correlation of the tie-averaged ranks.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        pearson(ranks(a), ranks(b))
    }

    public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    /// Kendall's τ-b (ties in either list reduce the denominator), O(n²).
    public static func kendallTau(_ a: [Double], _ b: [Double]) -> Double {
        var concordant = 0.0, discordant = 0.0, tiesA = 0.0, tiesB = 0.0
        let n = a.count
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<n {
                    let ai = pa[i], bi = pb[i]
                    var c = 0, d = 0, ta = 0, tb = 0
                    for j in (i + 1)..<max(i + 1, n) {
                        let da = pa[j] - ai, db = pb[j] - bi
                        if da == 0 && db == 0 { continue }
                        if da == 0 { ta += 1 } else if db == 0 { tb += 1 } else if (da > 0) == (db > 0) { c += 1 } else { d += 1 }
                    }
                    concordant += Double(c); discordant += Double(d); tiesA += Double(ta); tiesB += Double(tb)
                }
            }
        }
        let denominator = ((concordant + discordant + tiesA) * (concordant + discordant + tiesB)).squareRoot()
        return denominator > 0 ? (concordant - discordant) / denominator : 0
    }
}

extension RankCorrelation {
    /// The 95 % percentile-bootstrap interval of `statistic` over pairs drawn with replacement.
    public static func bootstrapInterval(_ a: [Double], _ b: [Double], resamples: Int, using rng: inout some RandomNumberGenerator,
                                         _ statistic: ([Double], [Double]) -> Double) -> ClosedRange<Double> {
        precondition(a.count == b.count && !a.isEmpty && resamples > 0, "a bootstrap interval needs paired, non-empty lists")
        var values: [Double] = []
        var x = a, y = b
        for _ in 0..<resamples {
            for i in a.indices {
                let j = Int.random(in: 0..<a.count, using: &rng)
                (x[i], y[i]) = (a[j], b[j])
            }
            values.append(statistic(x, y))
        }
        values.sort()
        return SampleStatistics.quantile(values, 0.025)...SampleStatistics.quantile(values, 0.975)
    }
}
