import Autodiff
import Foundation
import Predictors
import SearchSpaces
import NB201Space
import OFASpace

/// The surrogate's input: the 30-dimensional (relaxed) one-hot plus, for each of the 4 paths from
/// the cell input to its output, whether the path is live (no `none` edge), live × convolutions on
/// it and live × 3×3 convolutions on it. The path terms are products of encoding entries, so they
/// stay differentiable in a relaxed encoding.
public enum PathEncoding {
    public static let name = "nb201-onehot30+paths12"
    public static let featureCount = 42
    /// The paths 0→3 as edge indices into `NB201Architecture.edges`.
    static let paths: [[Int]] = [[3], [0, 4], [1, 5], [0, 2, 5]]

    /// The features of encoding `x` (30 values) and their Jacobian [42 × 30], row-major.
    public static func featuresAndJacobian(_ x: [Float]) -> (features: [Float], jacobian: [Float]) {
        precondition(x.count == 30, "encoding needs 30 values, got \(x.count)")
        let ops = NB201Architecture.operationCount
        func at(_ e: Int, _ op: NB201Operation) -> Int { e * ops + op.rawValue }
        var f = x
        var jacobian = [Float](repeating: 0, count: featureCount * 30)
        for k in 0..<30 { jacobian[k * 30 + k] = 1 }
        for path in paths {
            let open = path.map { 1 - x[at($0, .none)] }
            let live = open.reduce(1, *)
            let convs = path.reduce(Float(0)) { $0 + x[at($1, .conv1x1)] + x[at($1, .conv3x3)] }
            let big = path.reduce(Float(0)) { $0 + x[at($1, .conv3x3)] }
            let row = f.count
            f += [live, live * convs, live * big]
            for (k, e) in path.enumerated() {
                // ∂live/∂x[e, none] = −Π of the other edges' open factors.
                let others = open.enumerated().reduce(Float(1)) { $1.offset == k ? $0 : $0 * $1.element }
                for (r, factor) in [(row, Float(1)), (row + 1, convs), (row + 2, big)] {
                    jacobian[r * 30 + at(e, .none)] -= others * factor
                }
                jacobian[(row + 1) * 30 + at(e, .conv1x1)] += live
                jacobian[(row + 1) * 30 + at(e, .conv3x3)] += live
                jacobian[(row + 2) * 30 + at(e, .conv3x3)] += live
            }
        }
        return (f, jacobian)
    }

    public static func features(_ x: [Float]) -> [Float] { featuresAndJacobian(x).features }

    /// Whether the cell output is connected to its input: 1 − Πₚ(1 − liveₚ) over the 4 paths
    /// (0 or 1 for an architecture, multilinear in a relaxed encoding), with its gradient.
    public static func connectivity(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        let (f, jacobian) = featuresAndJacobian(x)
        let dead = paths.indices.map { 1 - f[30 + 3 * $0] }
        var gradient = [Float](repeating: 0, count: 30)
        for p in paths.indices {
            let others = dead.enumerated().reduce(Float(1)) { $1.offset == p ? $0 : $0 * $1.element }
            for c in 0..<30 { gradient[c] += others * jacobian[(30 + 3 * p) * 30 + c] }
        }
        return (1 - dead.reduce(1, *), gradient)
    }

    /// Whether some path from cell input to output has no `none` edge.
    public static func isConnected(_ architecture: NB201Architecture) -> Bool {
        paths.contains { path in path.allSatisfy { architecture.operations[$0] != .none } }
    }
}

/// The input features of an accuracy surrogate: a map of a space's (relaxed) encoding with its
/// Jacobian, and a gate for architectures whose error is chance without any query.
public enum SurrogateFeatures: String, CaseIterable, Sendable {
    /// NB201: `PathEncoding`, gated by connectivity.
    case nb201Paths = "nb201-onehot30+paths12"
    /// OFA: the latency predictors' linear encoding (`ArchitectureEncoding.ofa`); never gated.
    case ofaStructure = "ofa-onehot160+structure18"
    /// GPT: the latency predictors' linear encoding (`ArchitectureEncoding.gpt`); never gated.
    case gptStructure = "gpt-onehot80+structure5"

    public init(space: SpaceName) {
        switch space {
        case .nb201: self = .nb201Paths
        case .ofa: self = .ofaStructure
        case .gpt: self = .gptStructure
        }
    }

    public var space: SpaceName {
        switch self {
        case .nb201Paths: return .nb201
        case .ofaStructure: return .ofa
        case .gptStructure: return .gpt
        }
    }

    /// The linear encoding of a structure-feature space (nil for NB201's paths, which are not linear).
    private var linear: ArchitectureEncoding? { self == .nb201Paths ? nil : space.space.predictorEncoding }

    public var inputCount: Int { linear?.inputCount ?? 30 }
    public var featureCount: Int { linear?.featureCount ?? PathEncoding.featureCount }

    /// The features of encoding `x` and their Jacobian [featureCount × inputCount], row-major.
    public func featuresAndJacobian(_ x: [Float]) -> (features: [Float], jacobian: [Float]) {
        linear.map { ($0.features(x), $0.matrix) } ?? PathEncoding.featuresAndJacobian(x)
    }

    public func features(_ x: [Float]) -> [Float] { linear?.features(x) ?? PathEncoding.features(x) }

    /// Whether the network computes something other than a constant (0…1 in a relaxed encoding),
    /// with its gradient.
    public func connectivity(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        isGated ? PathEncoding.connectivity(x) : (1, [Float](repeating: 0, count: x.count))
    }

    /// Whether some encodings are disconnected networks, at chance without a query (NB201's paths).
    public var isGated: Bool { self == .nb201Paths }
}

/// A differentiable estimate of an architecture's test error (%) from a few queried ones: an
/// ensemble of regressors (linear term + MLP) on log error over the space's `SurrogateFeatures`,
/// gated by connectivity. An NB201 cell with no live path from input to output makes the network
/// compute a constant, so its error is chance (90 % on 10 classes) without any query; the
/// regressors learn only the connected architectures: error = c·exp(model) + (1 − c)·chance.
public struct AccuracySurrogate: Codable, Equatable, Sendable {
    /// The `SurrogateFeatures` name.
    public var encoding: String
    public var ensemble: [Regressor]
    /// The benchmark-table indices of the queried architectures (the accuracy-query budget is their count).
    public var queried: [Int]
    /// The data column the errors came from (e.g. "cifar10 test accuracy, NB201 200 epochs").
    public var source: String
    /// The error (%) of a constant predictor, 100·(1 − 1/classes), given to the architectures
    /// the features' gate calls disconnected; nil where the features have no gate (GPT).
    public var chanceError: Double?

    /// How the surrogate's regressors are trained: small, with decay, many epochs on few rows.
    public static var trainingConfiguration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.hidden = [64, 64]
        c.maxEpochs = 300
        c.batchSize = 32
        c.learningRate = 3e-3
        c.weightDecay = 1e-3
        c.patience = c.maxEpochs
        c.validationFraction = 0   // 200 rows are too few to spare a validation part
        return c
    }

    /// The feature map (checked by `problem` when a file is read).
    public var features: SurrogateFeatures { SurrogateFeatures(rawValue: encoding) ?? .nb201Paths }

    /// Fits an ensemble to the test errors (%) of the `queried` architectures of `space`.
    public static func fit<S: SearchSpace>(space: S, architectures: [S.Architecture], errors: [Double], queried: [Int], source: String,
                                           chanceError: Double?, ensembleSize: Int = 3, seed: UInt64 = 0) -> AccuracySurrogate {
        precondition(architectures.count == errors.count && errors.count >= 10, "the surrogate needs at least 10 queried architectures")
        let features = SurrogateFeatures(space: space.name)
        precondition(chanceError != nil || !features.isGated, "a gated surrogate needs its chance error")
        let encodings = architectures.map(space.oneHotEncoding)
        let connected = encodings.indices.filter { features.connectivity(encodings[$0]).value == 1 }
        let rows = Tensor(shape: [connected.count, features.featureCount], scalars: connected.flatMap { features.features(encodings[$0]) })
        let targets = connected.map { Float(Foundation.log(max(errors[$0], 1e-3))) }
        var c = trainingConfiguration
        c.seed = seed
        let models = PredictorTraining.fitEnsemble(rows: rows, targets: targets, configuration: c, size: ensembleSize).map(\.0)
        return AccuracySurrogate(encoding: features.rawValue, ensemble: models, queried: queried, source: source, chanceError: chanceError)
    }

    /// Fits an NB201 surrogate.
    public static func fit(architectures: [NB201Architecture], errors: [Double], queried: [Int], source: String,
                           chanceError: Double, ensembleSize: Int = 3, seed: UInt64 = 0) -> AccuracySurrogate {
        fit(space: NB201SearchSpace(), architectures: architectures, errors: errors, queried: queried, source: source,
            chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }

    /// What makes a stored surrogate unusable; nil when it is sound.
    public var problem: String? {
        guard let features = SurrogateFeatures(rawValue: encoding) else {
            return "encoding '\(encoding)', expected one of \(SurrogateFeatures.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        guard !ensemble.isEmpty else { return "the ensemble is empty" }
        if let chanceError {
            guard chanceError.isFinite, chanceError > 0, chanceError < 100 else { return "chance error \(chanceError) %" }
        } else if features.isGated {
            return "no chance error for the \(features.rawValue) gate"
        }
        guard queried.allSatisfy({ (0..<features.space.tableSize).contains($0) }) else { return "a queried index outside the space's table" }
        for (k, r) in ensemble.enumerated() {
            if let p = r.problem(inputs: features.featureCount) { return "ensemble member \(k): \(p)" }
        }
        return nil
    }

    /// The chance error; an ungated surrogate never weighs it (connectivity is 1 everywhere).
    private var chance: Double { chanceError ?? 0 }

    /// Estimated test error (%) of each one-hot encoding of the surrogate's space.
    public func errors(encodings: [[Float]]) -> [Double] {
        guard !encodings.isEmpty else { return [] }
        let f = features
        let rows = Tensor(shape: [encodings.count, f.featureCount], scalars: encodings.flatMap(f.features))
        return zip(encodings, ensemble.meanPrediction(rows)).map { f.connectivity($0).value == 1 ? Foundation.exp($1) : chance }
    }

    /// Estimated test error (%) of each architecture of `space`.
    public func errors<S: SearchSpace>(_ architectures: [S.Architecture], in space: S) -> [Double] {
        errors(encodings: architectures.map(space.oneHotEncoding))
    }

    /// Estimated test error (%) of each NB201 architecture.
    public func errors(_ architectures: [NB201Architecture]) -> [Double] { errors(architectures, in: NB201SearchSpace()) }

    /// The estimated error (%) at one (relaxed) encoding and its gradient with respect to it.
    public func evaluate(_ encoding: [Float]) -> (error: Double, gradient: [Float]) {
        let f = features
        let (x, jacobian) = f.featuresAndJacobian(encoding)
        let (log, g) = ensemble.meanValueAndGradient(x)
        let model = Foundation.exp(Double(log))
        let (connected, connectedGradient) = f.connectivity(encoding)
        let n = encoding.count, chanceError = chance
        let gradient = (0..<n).map { c in
            Float(connected) * (0..<f.featureCount).reduce(Float(0)) { $0 + jacobian[$1 * n + c] * g[$1] } * Float(model)
                + Float(model - chanceError) * connectedGradient[c]
        }
        return (Double(connected) * model + (1 - Double(connected)) * chanceError, gradient)
    }
}
