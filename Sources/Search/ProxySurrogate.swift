import Foundation
import Proxies
import SearchSpaces

/// Proxy mode's accuracy: zero-cost proxies of K sampled architectures on the user's data, their
/// rank vote mapped to pseudo-errors, and the accuracy surrogate fitted on those. No accuracy is
/// queried; the estimates are ranks (estimated), not errors of any trained network.
public enum ProxySurrogate {
    /// The pseudo-errors span this range: the vote's best architecture gets the low end.
    public static let pseudoErrors: ClosedRange<Double> = 10...89
    /// The chance error given to architectures whose output does not depend on the input.
    public static let chanceError = 90.0

    /// The pseudo-error (%) of each architecture from its mean rank in a vote over `count` architectures.
    public static func pseudoErrors(meanRanks: [Double]) -> [Double] {
        let n = Double(max(meanRanks.count - 1, 1))
        return meanRanks.map { pseudoErrors.upperBound - (pseudoErrors.upperBound - pseudoErrors.lowerBound) * ($0 - 1) / n }
    }

    /// Scores `count` sampled architectures that the surrogate's gate calls connected (seeded) with
    /// the `voters`, and fits the surrogate to the vote's pseudo-errors.
    public static func fit<S: SearchSpace>(scorer: ProxyScorer<S>, count: Int, voters: [ZeroCostProxy], seed: UInt64, ensembleSize: Int,
                                           progress: (Int) -> Void = { _ in }) -> AccuracySurrogate {
        let space = scorer.space, features = SurrogateFeatures(space: space.name)
        let architectures = Array(space.sample(count: 4 * count, seed: seed &+ 1_000_003)
            .filter { features.connectivity(space.oneHotEncoding(of: $0)).value == 1 }.prefix(count))
        var scores = [[Double]](repeating: [], count: voters.count)
        for (k, a) in architectures.enumerated() {
            let s = scorer.scores(a, proxies: voters)
            for (v, proxy) in voters.enumerated() { scores[v].append(s[proxy]!) }
            progress(k + 1)
        }
        let errors = pseudoErrors(meanRanks: ProxyVote.meanRanks(scores))
        let data = scorer.batch.map { "\($0.labels.count) images of \($0.source)" } ?? "no data"
        let source = "zero-cost proxy vote (\(voters.map(\.rawValue).joined(separator: ", "))) of \(architectures.count) sampled architectures on \(data), "
            + "as rank pseudo-errors \(Int(pseudoErrors.lowerBound))–\(Int(pseudoErrors.upperBound)) % (estimated; no accuracy queried)"
        return AccuracySurrogate.fit(space: space, architectures: architectures, errors: errors, queried: [], source: source,
                                     chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }
}
