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

    /// `count` architectures sampled from `space` (seeded) that the surrogate's gate calls connected:
    /// the architectures the proxy and supernet modes fit their surrogate on.
    public static func connectedSample<S: SearchSpace>(of space: S, count: Int, seed: UInt64) -> [S.Architecture] {
        let features = space.surrogateFeatures
        return Array(space.sample(count: 4 * count, seed: seed &+ 1_000_003)
            .filter { features.connectivity(space.oneHotEncoding(of: $0)).value == 1 }.prefix(count))
    }

    /// The vote's mean rank (1 = worst) of each architecture under the `voters`.
    public static func voteMeanRanks<S: SearchSpace>(scorer: ProxyScorer<S>, architectures: [S.Architecture], voters: [ZeroCostProxy],
                                                     progress: (Int) -> Void = { _ in }) -> [Double] {
        var scores = [[Double]](repeating: [], count: voters.count)
        for (k, a) in architectures.enumerated() {
            let s = scorer.scores(a, proxies: voters)
            for (v, proxy) in voters.enumerated() { scores[v].append(s[proxy]!) }
            progress(k + 1)
        }
        return ProxyVote.meanRanks(scores)
    }

    /// What the proxies scored, in words.
    public static func description<S: SearchSpace>(scorer: ProxyScorer<S>, voters: [ZeroCostProxy], count: Int) -> String {
        let data = scorer.batch.map { "\($0.labels.count) images of \($0.source)" } ?? "no data"
        return "zero-cost proxy vote (\(voters.map(\.rawValue).joined(separator: ", "))) of \(count) sampled architectures on \(data)"
    }

    /// Scores `count` connected sampled architectures with the `voters`, and fits the surrogate
    /// to the vote's pseudo-errors.
    public static func fit<S: SearchSpace>(scorer: ProxyScorer<S>, count: Int, voters: [ZeroCostProxy], seed: UInt64, ensembleSize: Int,
                                           progress: (Int) -> Void = { _ in }) -> AccuracySurrogate {
        let space = scorer.space
        let architectures = connectedSample(of: space, count: count, seed: seed)
        let errors = pseudoErrors(meanRanks: voteMeanRanks(scorer: scorer, architectures: architectures, voters: voters, progress: progress))
        let source = description(scorer: scorer, voters: voters, count: architectures.count)
            + ", as rank pseudo-errors \(Int(pseudoErrors.lowerBound))–\(Int(pseudoErrors.upperBound)) % (estimated; no accuracy queried)"
        return AccuracySurrogate.fit(space: space, architectures: architectures, errors: errors, queried: [], source: source,
                                     chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }
}
