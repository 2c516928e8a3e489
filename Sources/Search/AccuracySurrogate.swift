import Autodiff
import Foundation
import Predictors
import SearchSpaces

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

/// A differentiable estimate of an architecture's test error (%) from a few queried ones: an
/// ensemble of regressors (linear term + MLP) on log error over `PathEncoding`, gated by
/// connectivity. A cell with no live path from input to output makes the network compute a
/// constant, so its error is chance (90 % on 10 classes) without any query; the regressors learn
/// only the connected architectures: error = c·exp(model) + (1 − c)·chance.
public struct AccuracySurrogate: Codable, Equatable, Sendable {
    public var encoding: String
    public var ensemble: [Regressor]
    /// The official indices of the queried architectures (the accuracy-query budget is their count).
    public var queried: [Int]
    /// The data column the errors came from (e.g. "cifar10 test accuracy, NB201 200 epochs").
    public var source: String
    /// The error (%) of a constant predictor: 100·(1 − 1/classes).
    public var chanceError: Double

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

    /// Fits an ensemble to the test errors (%) of the `queried` architectures.
    public static func fit(architectures: [NB201Architecture], errors: [Double], queried: [Int], source: String,
                           chanceError: Double, ensembleSize: Int = 3, seed: UInt64 = 0) -> AccuracySurrogate {
        precondition(architectures.count == errors.count && errors.count >= 10, "the surrogate needs at least 10 queried architectures")
        let connected = architectures.indices.filter { PathEncoding.isConnected(architectures[$0]) }
        let (architectures, errors) = (connected.map { architectures[$0] }, connected.map { errors[$0] })
        let rows = Tensor(shape: [architectures.count, PathEncoding.featureCount],
                          scalars: architectures.flatMap { PathEncoding.features($0.oneHotEncoding) })
        let targets = errors.map { Float(Foundation.log(max($0, 1e-3))) }
        var c = trainingConfiguration
        c.seed = seed
        let models = PredictorTraining.fitEnsemble(rows: rows, targets: targets, configuration: c, size: ensembleSize).map(\.0)
        return AccuracySurrogate(encoding: PathEncoding.name, ensemble: models, queried: queried, source: source, chanceError: chanceError)
    }

    /// What makes a stored surrogate unusable; nil when it is sound.
    public var problem: String? {
        guard encoding == PathEncoding.name else { return "encoding '\(encoding)', expected '\(PathEncoding.name)'" }
        guard !ensemble.isEmpty else { return "the ensemble is empty" }
        guard chanceError.isFinite, chanceError > 0, chanceError < 100 else { return "chance error \(chanceError) %" }
        guard queried.allSatisfy({ (0..<NB201Architecture.spaceSize).contains($0) }) else { return "a queried index outside the space" }
        for (k, r) in ensemble.enumerated() {
            if let p = r.problem(inputs: PathEncoding.featureCount) { return "ensemble member \(k): \(p)" }
        }
        return nil
    }

    /// Estimated test error (%) of each architecture.
    public func errors(_ architectures: [NB201Architecture]) -> [Double] {
        guard !architectures.isEmpty else { return [] }
        let rows = Tensor(shape: [architectures.count, PathEncoding.featureCount],
                          scalars: architectures.flatMap { PathEncoding.features($0.oneHotEncoding) })
        return zip(architectures, ensemble.meanPrediction(rows)).map { PathEncoding.isConnected($0) ? Foundation.exp($1) : chanceError }
    }

    /// The estimated error (%) at one (relaxed) encoding and its gradient with respect to it.
    public func evaluate(_ encoding: [Float]) -> (error: Double, gradient: [Float]) {
        let (features, jacobian) = PathEncoding.featuresAndJacobian(encoding)
        let (log, g) = ensemble.meanValueAndGradient(features)
        let model = Foundation.exp(Double(log))
        let (connected, connectedGradient) = PathEncoding.connectivity(encoding)
        let gradient = (0..<30).map { c in
            Float(connected) * (0..<PathEncoding.featureCount).reduce(Float(0)) { $0 + jacobian[$1 * 30 + c] * g[$1] } * Float(model)
                + Float(model - chanceError) * connectedGradient[c]
        }
        return (Double(connected) * model + (1 - Double(connected)) * chanceError, gradient)
    }
}
