import Autodiff
import Foundation
import SearchSpaces
import Statistics

/// A zero-cost proxy: a score of an untrained network that should rank architectures as their
/// trained accuracy does (higher is better). Definitions follow Abdelfattah et al., "Zero-Cost
/// Proxies for Lightweight NAS", ICLR 2021, and the works they cite.
public enum ZeroCostProxy: String, CaseIterable, Sendable, Codable {
    /// ln Σ θ ⊙ ∂R/∂θ over conv and linear weights of the network without batch norm, weights
    /// replaced by |θ|, R the sum of the logits for an all-ones input (Tanaka et al., NeurIPS 2020).
    case synflow
    /// −Σ (ln(λ + k) + 1/(λ + k)), k = 1e-5, over the eigenvalues λ of the correlation matrix of
    /// the input Jacobians of one minibatch (Mellor et al., 2020, v1).
    case jacobCov = "jacob_cov"
    /// Σ |θ ⊙ ∂L/∂θ| of the cross-entropy on one minibatch (Lee et al., ICLR 2019).
    case snip
    /// Σ over weight tensors of ‖∂L/∂θ‖₂ on one minibatch.
    case gradNorm = "grad_norm"
    /// Trainable scalars of the network.
    case params
    /// Floating-point operations at the space's network shape (2 per multiply-accumulate).
    case flops

    /// Whether the proxy needs a minibatch of data (synflow, params and flops are data-free).
    public var needsData: Bool { self == .jacobCov || self == .snip || self == .gradNorm }

    /// The proxies the rank vote combines by default: the three best on NB201 in Abdelfattah et al.
    public static let voters: [ZeroCostProxy] = [.synflow, .jacobCov, .snip]

    public init(parsing text: String) throws {
        guard let proxy = ZeroCostProxy(rawValue: text) else {
            throw ProxyError.unknown(text)
        }
        self = proxy
    }
}

public enum ProxyError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case noTrainableNetwork(String)
    case badBatch(String)

    public var description: String {
        switch self {
        case .unknown(let text):
            return "unknown proxy '\(text)'; use one of \(ZeroCostProxy.allCases.map(\.rawValue).joined(separator: ", "))"
        case .noTrainableNetwork(let space):
            return "the \(space) space has no trainable network builder yet, so its architectures cannot be scored by proxies or trained; use --accuracy surrogate"
        case .badBatch(let reason): return reason
        }
    }
}

/// The minibatch the data-dependent proxies see, and where it came from.
public struct ProxyBatch: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var classes: Int
    /// The data set's name, for labels ("fashion-mnist").
    public var source: String

    public init(images: Tensor, labels: [Int], classes: Int, source: String) throws {
        guard images.rank == 4, images.shape[0] == labels.count, labels.count >= 2 else {
            throw ProxyError.badBatch("a proxy minibatch needs [batch ≥ 2, channels, height, width] images and one label each")
        }
        guard labels.allSatisfy({ (0..<classes).contains($0) }) else {
            throw ProxyError.badBatch("a proxy minibatch label lies outside 0..<\(classes)")
        }
        (self.images, self.labels, self.classes, self.source) = (images, labels, classes, source)
    }

    /// [channels, height, width] of one image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }
}

/// Scores architectures of a space with zero-cost proxies, each on networks at initialisation
/// drawn from `seed`: the data-free proxies on a network for `dataFreeInput`, the data-dependent
/// ones on a network for the minibatch's images (one network when the two agree).
public struct ProxyScorer<Space: SearchSpace> {
    public let space: Space
    /// The data-dependent proxies' minibatch; nil: only data-free proxies can be scored.
    public let batch: ProxyBatch?
    /// The input [channels, height, width] and classes of the data-free proxies' network.
    public let dataFreeInput: [Int], dataFreeClasses: Int
    public let seed: UInt64

    /// Data-free proxies on networks for `dataFreeInput` (default: the batch's images).
    public init(space: Space, batch: ProxyBatch?, dataFreeInput: [Int]? = nil, dataFreeClasses: Int? = nil, seed: UInt64 = 0) throws {
        guard let input = dataFreeInput ?? batch?.imageShape, let classes = dataFreeClasses ?? batch?.classes else {
            throw ProxyError.badBatch("proxies without a minibatch need the input shape and classes of their network")
        }
        (self.space, self.batch, self.dataFreeInput, self.dataFreeClasses, self.seed) = (space, batch, input, classes, seed)
        guard let a = space.sample(count: 1, seed: 0).first, space.makeTrainableNetwork(a, input: input, classes: classes, seed: 0) != nil else {
            throw ProxyError.noTrainableNetwork("\(space.name)")
        }
    }

    /// The scores of `architecture` for `proxies` (a data-dependent proxy needs the batch).
    public func scores(_ architecture: Space.Architecture, proxies: [ZeroCostProxy]) -> [ZeroCostProxy: Double] {
        func network(_ input: [Int], _ classes: Int) -> TrainableNetwork {
            space.makeTrainableNetwork(architecture, input: input, classes: classes, seed: seed)!
        }
        var built: TrainableNetwork?
        var dataFree: TrainableNetwork {
            if built == nil { built = network(dataFreeInput, dataFreeClasses) }
            return built!
        }
        var result: [ZeroCostProxy: Double] = [:]
        if proxies.contains(where: \.needsData) {
            guard let batch else { preconditionFailure("a data-dependent proxy was asked for without a minibatch") }
            let onData = batch.imageShape == dataFreeInput && batch.classes == dataFreeClasses ? dataFree : network(batch.imageShape, batch.classes)
            if proxies.contains(.jacobCov) { result[.jacobCov] = ProxyMeasures.jacobianCovariance(onData, images: batch.images) }
            if proxies.contains(.snip) || proxies.contains(.gradNorm) {
                let (snip, gradNorm) = ProxyMeasures.lossSaliency(onData, batch: batch)
                if proxies.contains(.snip) { result[.snip] = snip }
                if proxies.contains(.gradNorm) { result[.gradNorm] = gradNorm }
            }
        }
        if proxies.contains(.synflow) { result[.synflow] = ProxyMeasures.synapticFlow(dataFree) }
        if proxies.contains(.params) { result[.params] = Double(dataFree.parameters.reduce(0) { $0 + $1.value.count }) }
        if proxies.contains(.flops) { result[.flops] = Double(space.cost(of: architecture).floatingPointOperations) }
        return result
    }
}

/// Several proxies' scores combined by rank: each architecture's mean rank over the proxies.
public enum ProxyVote {
    /// `scores[proxy][architecture]` to one mean rank per architecture (1 = lowest; ties averaged).
    public static func meanRanks(_ scores: [[Double]]) -> [Double] {
        precondition(!scores.isEmpty && scores.allSatisfy { $0.count == scores[0].count }, "a vote needs equally long score lists")
        let ranks = scores.map(RankCorrelation.ranks)
        return (0..<scores[0].count).map { a in ranks.reduce(0) { $0 + $1[a] } / Double(ranks.count) }
    }
}

/// The proxies' computations on one network.
enum ProxyMeasures {
    /// SynFlow in log form. The linearised network is positively homogeneous in each block's
    /// output, so dividing a block's output by its mean divides R and every ∂R/∂θ by that mean:
    /// the pass runs in Float32 without overflow and the logs of the divisors are added back
    /// (the authors use float64 instead). A network whose output does not depend on its input
    /// scores −∞.
    static func synapticFlow(_ network: TrainableNetwork) -> Double {
        let weights = network.weights
        let saved = weights.map(\.value)
        defer { for (w, v) in zip(weights, saved) { w.value = v } }
        for w in weights { w.value = Tensor(shape: w.value.shape, scalars: w.value.scalars.map(abs)) }
        zeroGradients(network.parameters)
        var logScale = 0.0
        let ones = Variable(Tensor(repeating: 1, shape: network.inputShape(batch: 1)))
        let output = network.forward(ones, normalization: .none) { h in
            let mean = h.value.sum() / Double(max(h.value.count, 1))
            guard mean > 0, mean.isFinite else { return h }
            logScale += Foundation.log(mean)
            return scale(h, by: Float(1 / mean))
        }
        sum(output).backward()
        var total = 0.0
        for w in weights {
            guard let g = w.grad else { continue }
            for (v, d) in zip(w.value.scalars, g.scalars) { total += Double(v) * Double(d) }
        }
        zeroGradients(network.parameters)
        return total > 0 ? Foundation.log(total) + logScale : -.infinity
    }

    /// SNIP and grad_norm from one backward pass of the cross-entropy (batch statistics, as the
    /// authors score networks in training mode).
    static func lossSaliency(_ network: TrainableNetwork, batch: ProxyBatch) -> (snip: Double, gradNorm: Double) {
        zeroGradients(network.parameters)
        let loss = crossEntropy(network.forward(Variable(batch.images), normalization: .batch) { $0 }, labels: batch.labels)
        loss.backward()
        var snip = 0.0, gradNorm = 0.0
        for w in network.weights {
            guard let g = w.grad else { continue }
            for (v, d) in zip(w.value.scalars, g.scalars) { snip += abs(Double(v) * Double(d)) }
            gradNorm += g.squaredNorm().squareRoot()
        }
        zeroGradients(network.parameters)
        return (snip, gradNorm)
    }

    /// jacob_cov: the input gradient of the summed logits per image, their correlation matrix's
    /// eigenvalues, and −Σ (ln(λ + k) + 1/(λ + k)). A network whose logits do not depend on an
    /// image (a constant Jacobian row: no correlation is defined) scores −10⁸, below any other.
    static func jacobianCovariance(_ network: TrainableNetwork, images: Tensor) -> Double {
        guard let jacobian = inputJacobian(network, images: images) else { return -1e8 }
        let n = images.shape[0], d = images.count / n
        let correlation = correlationMatrix(rows: jacobian.scalars.map(Double.init), count: n, width: d)
        guard let correlation else { return -1e8 }
        return jacobianCovarianceScore(correlation: correlation, size: n)
    }

    /// ∂(Σ logits)/∂images, batch statistics (one row per image; nil where nothing reaches the input).
    static func inputJacobian(_ network: TrainableNetwork, images: Tensor) -> Tensor? {
        zeroGradients(network.parameters)
        let x = Variable(images, requiresGrad: true)
        network.forward(x, normalization: .batch) { $0 }.backward()
        zeroGradients(network.parameters)
        return x.grad
    }

    /// −Σ (ln(λ + k) + 1/(λ + k)), k = 1e-5, over the eigenvalues of an n × n correlation matrix.
    static func jacobianCovarianceScore(correlation: [Double], size n: Int) -> Double {
        let k = 1e-5
        return -SymmetricEigenvalues.of(correlation, size: n).reduce(0) { $0 + Foundation.log(max($1, 0) + k) + 1 / (max($1, 0) + k) }
    }

    /// The n × n Pearson correlation of `count` rows of `width` values (nil: a constant row).
    static func correlationMatrix(rows x: [Double], count n: Int, width d: Int) -> [Double]? {
        var centred = x
        var norms = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let mean = x[(i * d)..<((i + 1) * d)].reduce(0, +) / Double(d)
            var s = 0.0
            for j in 0..<d { centred[i * d + j] -= mean; s += centred[i * d + j] * centred[i * d + j] }
            guard s > 0 else { return nil }
            norms[i] = s.squareRoot()
        }
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for t in 0..<d { s += centred[i * d + t] * centred[j * d + t] }
                c[i * n + j] = s / (norms[i] * norms[j])
                c[j * n + i] = c[i * n + j]
            }
        }
        return c
    }
}

/// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (small matrices: a minibatch's
/// correlation matrix).
enum SymmetricEigenvalues {
    static func of(_ matrix: [Double], size n: Int, sweeps: Int = 50, tolerance: Double = 1e-12) -> [Double] {
        precondition(matrix.count == n * n, "a \(n) × \(n) matrix needs \(n * n) entries")
        var a = matrix
        for _ in 0..<sweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off < tolerance { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p * n + q] != 0 {
                    let apq = a[p * n + q]
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }
    }
}
