import Autodiff
import DataFiles
import Datasets
import Foundation
import Predictors
import Proxies
import SearchSpaces
import Statistics
import NB201Space
import Evaluation
import Search

/// What a rank check scores architectures with.
public enum RankEstimator: Hashable, Sendable, CustomStringConvertible {
    /// A zero-cost proxy (params and flops are the baselines).
    case proxy(ZeroCostProxy)
    /// The mean rank of several proxies.
    case vote([ZeroCostProxy])
    /// A trained supernet's accuracy on the validation images (`--search DIR`).
    case supernet
    /// The mean of the supernet's rank and the default vote's mean rank, as `--accuracy supernet+proxy` fits them.
    case supernetProxy

    public static let formatHelp = "supernet, supernet+proxy (its rank averaged with the vote's), params, flops, proxy:NAME (\(ZeroCostProxy.allCases.map(\.rawValue).joined(separator: ", "))), vote (of \(ZeroCostProxy.voters.map(\.rawValue).joined(separator: "+"))), vote:NAME+NAME…, or proxies (every proxy and the vote)"

    /// A comma-separated list; `proxies` expands to every proxy and the default vote.
    public static func list(parsing text: String) throws -> [RankEstimator] {
        var result: [RankEstimator] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let parsed: [RankEstimator]
            switch item {
            case "supernet": parsed = [.supernet]
            case "supernet+proxy": parsed = [.supernetProxy]
            case "params": parsed = [.proxy(.params)]
            case "flops": parsed = [.proxy(.flops)]
            case "vote": parsed = [.vote(ZeroCostProxy.voters)]
            case "proxies": parsed = ZeroCostProxy.allCases.map(RankEstimator.proxy) + [.vote(ZeroCostProxy.voters)]
            case _ where item.hasPrefix("proxy:"): parsed = [.proxy(try ZeroCostProxy(parsing: String(item.dropFirst(6))))]
            case _ where item.hasPrefix("vote:"):
                let voters = try item.dropFirst(5).split(separator: "+").map { try ZeroCostProxy(parsing: String($0)) }
                guard voters.count >= 2 else { throw SearchError.badConfiguration("--estimator \(item): a vote needs at least two proxies") }
                parsed = [.vote(voters)]
            default: throw SearchError.badConfiguration("--estimator: unknown estimator '\(item)'; use \(formatHelp)")
            }
            for e in parsed where !result.contains(e) { result.append(e) }
        }
        return result
    }

    public var description: String {
        switch self {
        case .proxy(.params): return "params"
        case .proxy(.flops): return "flops"
        case .proxy(let p): return "proxy:\(p.rawValue)"
        case .vote(let voters): return "vote:" + voters.map(\.rawValue).joined(separator: "+")
        case .supernet: return "supernet"
        case .supernetProxy: return "supernet+proxy"
        }
    }

    /// Whether the estimator reads a trained supernet (`--search DIR`).
    public var needsSupernet: Bool { self == .supernet || self == .supernetProxy }

    /// Whether the estimator needs a minibatch of data (the data-dependent proxies).
    public var needsData: Bool { proxies.contains(where: \.needsData) }

    /// The proxies whose scores this estimator needs.
    var proxies: [ZeroCostProxy] {
        switch self {
        case .proxy(let p): return [p]
        case .vote(let voters): return voters
        case .supernet: return []
        case .supernetProxy: return ZeroCostProxy.voters
        }
    }
}

/// Stand-alone training, the ground truth of a rank check without a benchmark table: each
/// architecture trained from scratch, once per seed, and its mean validation accuracy.
public struct StandAloneTraining: Codable, Equatable, Sendable {
    public var epochs = 3
    /// Weight images trained on (a fixed seeded subset of the data's weight half).
    public var images = 5_000
    public var validationImages = 1_000
    public var seeds = 2
    public var batchSize = 64
    public var learningRate: Float = 0.05

    public init() {}

    public var description: String {
        "stand-alone training, \(epochs) epochs over \(images) weight images, batch \(batchSize), SGD lr \(learningRate) cosine, "
            + "mean of \(seeds) seeds, accuracy on \(validationImages) validation images"
    }

    /// The mean validation accuracy (%) of `architecture` over the seeds.
    public func accuracy<S: SearchSpace>(_ architecture: S.Architecture, space: S, splits: DatasetSplits, seed: UInt64) -> Double {
        let runs = (0..<seeds).map { k in
            trainedAccuracy(space.makeTrainableNetwork(architecture, input: [splits.weights.channels, splits.weights.height, splits.weights.width],
                                                       classes: splits.weights.classes, seed: seed &+ UInt64(k) &* 7_919)!,
                            splits: splits, seed: seed &+ UInt64(k))
        }
        return runs.reduce(0, +) / Double(runs.count)
    }

    /// Trains `network` (SGD momentum 0.9, weight decay 5e-4, gradient norm clipped at 5) and
    /// returns its top-1 accuracy (%) on the validation images.
    func trainedAccuracy(_ network: TrainableNetwork, splits: DatasetSplits, seed: UInt64) -> Double {
        let parameters = network.parameters
        let sgd = SGD(parameters: parameters, learningRate: learningRate, momentum: 0.9, weightDecay: 5e-4)
        var rng = SeededGenerator(seed: seed &+ 17)
        let n = min(images, splits.weights.count)
        let steps = max(epochs * n / batchSize, 1)
        var order = Array(0..<n)
        for step in 0..<steps {
            if step * batchSize % n < batchSize { rng.shuffle(&order) }
            sgd.learningRate = learningRate * cosineFactor(step: step, of: steps)
            let (x, labels) = splits.weights.batch((0..<batchSize).map { order[(step * batchSize + $0) % n] }, using: &rng)
            zeroGradients(parameters)
            crossEntropy(network.forward(Variable(x), normalization: .batch) { $0 }, labels: labels).backward()
            _ = clipGradientNorm(parameters, maxNorm: 5)
            sgd.step()
        }
        return topOneAccuracy(on: splits.architecture, count: min(validationImages, splits.architecture.count), batch: batchSize, using: &rng) { x in
            withoutTape { network.forward(Variable(x), normalization: .running) { $0 }.value }
        }
    }
}

/// Does an accuracy estimator rank architectures as their accuracy does? Kendall τ and Spearman ρ
/// with bootstrap intervals, against a benchmark table or stand-alone training, always beside
/// the parameter and FLOP counts.
public enum RankCheck {
    /// One architecture's truth (accuracy, %) and estimates, by estimator column.
    public struct Row: Equatable, Sendable {
        public var architecture: NB201Architecture
        public var truth: Double
        public var values: [String: Double]
        public var seconds: Double

        public init(architecture: NB201Architecture, truth: Double, values: [String: Double], seconds: Double) {
            (self.architecture, self.truth, self.values, self.seconds) = (architecture, truth, values, seconds)
        }
    }

    /// One estimator's agreement with the truth.
    public struct Agreement: Sendable {
        public var estimator: String
        public var count: Int
        public var kendall: Double, kendallInterval: ClosedRange<Double>
        public var spearman: Double, spearmanInterval: ClosedRange<Double>
    }

    /// `count` connected NB201 architectures stratified by their number of convolutions (0–6):
    /// the strata take turns, each drawing without replacement in a seeded order.
    public static func stratifiedArchitectures(count: Int, seed: UInt64) -> [NB201Architecture] {
        var strata = [[NB201Architecture]](repeating: [], count: NB201Architecture.edgeCount + 1)
        for code in 0..<NB201Architecture.spaceSize {
            let a = NB201Architecture(code: code)
            guard PathEncoding.isConnected(a) else { continue }
            strata[a.convolutionCount].append(a)
        }
        var rng = SeededGenerator(seed: seed)
        for k in strata.indices { rng.shuffle(&strata[k]) }
        var chosen: [NB201Architecture] = [], round = 0
        while chosen.count < count, strata.contains(where: { $0.count > round }) {
            for stratum in strata where stratum.count > round && chosen.count < count { chosen.append(stratum[round]) }
            round += 1
        }
        return chosen
    }

    /// The columns a run stores: the estimators' proxies (the baselines always), then the supernet.
    public static func columns(_ estimators: [RankEstimator]) -> [String] {
        var proxies: [ZeroCostProxy] = [.params, .flops]
        for p in estimators.flatMap(\.proxies) where !proxies.contains(p) { proxies.append(p) }
        return proxies.map { RankEstimator.proxy($0).description } + (estimators.contains(where: \.needsSupernet) ? ["supernet"] : [])
    }

    /// The estimators reported: the baselines first, then the requested ones.
    public static func reported(_ estimators: [RankEstimator]) -> [RankEstimator] {
        var result: [RankEstimator] = [.proxy(.params), .proxy(.flops)]
        for e in estimators where !result.contains(e) { result.append(e) }
        return result
    }

    /// The estimate of `estimator` for every row (a vote ranks over the rows given).
    public static func estimates(_ estimator: RankEstimator, rows: [Row]) -> [Double] {
        switch estimator {
        case .vote(let voters): return ProxyVote.meanRanks(voters.map { p in rows.map { $0.values[RankEstimator.proxy(p).description]! } })
        case .supernetProxy:
            let supernet = ProxyVote.meanRanks([estimates(.supernet, rows: rows)])
            return zip(supernet, estimates(.vote(ZeroCostProxy.voters), rows: rows)).map { ($0 + $1) / 2 }
        default: return rows.map { $0.values[estimator.description]! }
        }
    }

    /// Kendall τ and Spearman ρ of each estimator with the truth, with 95 % percentile-bootstrap
    /// intervals over architectures (`resamples` resamples, seeded).
    public static func agreements(_ estimators: [RankEstimator], rows: [Row], resamples: Int, seed: UInt64) -> [Agreement] {
        let truth = rows.map(\.truth)
        return reported(estimators).map { e in
            let values = estimates(e, rows: rows)
            var rng = SeededGenerator(seed: seed)
            let tau = RankCorrelation.bootstrapInterval(values, truth, resamples: resamples, using: &rng, RankCorrelation.kendallTau)
            let rho = RankCorrelation.bootstrapInterval(values, truth, resamples: resamples, using: &rng, RankCorrelation.spearman)
            return Agreement(estimator: e.description, count: rows.count,
                             kendall: RankCorrelation.kendallTau(values, truth), kendallInterval: tau,
                             spearman: RankCorrelation.spearman(values, truth), spearmanInterval: rho)
        }
    }

    /// The summary table.
    public static func table(_ agreements: [Agreement]) -> String {
        var lines = ["estimator                          archs  Kendall τ  [95 % interval]   Spearman ρ  [95 % interval]"]
        for a in agreements {
            let name = a.estimator + (a.estimator == "params" || a.estimator == "flops" ? " (baseline)" : "")
            lines.append(name.padding(toLength: 33, withPad: " ", startingAt: 0)
                         + String(format: " %6d  %9.3f  [%6.3f, %6.3f]  %10.3f  [%6.3f, %6.3f]", a.count, a.kendall, a.kendallInterval.lowerBound,
                                  a.kendallInterval.upperBound, a.spearman, a.spearmanInterval.lowerBound, a.spearmanInterval.upperBound))
        }
        return lines.joined(separator: "\n")
    }
}
