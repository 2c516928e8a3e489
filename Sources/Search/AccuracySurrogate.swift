import Autodiff
import Foundation
import Predictors
import SearchSpaces

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

    /// The feature map (`problem` refuses a file whose features no space has).
    public var features: SurrogateFeatures {
        guard let features = Self.features(named: encoding) else { preconditionFailure("surrogate features '\(encoding)' of no space; check `problem` first") }
        return features
    }

    /// The surrogate features of every registered space, by name (built once: `features` is read on every step).
    static let allFeatures: [String: SurrogateFeatures] = Dictionary(
        SpaceName.allCases.map { ($0.space.surrogateFeatures.name, $0.space.surrogateFeatures) }, uniquingKeysWith: { a, _ in a })

    static func features(named name: String) -> SurrogateFeatures? { allFeatures[name] }

    /// Fits an ensemble to the test errors (%) of the `queried` architectures of `space`.
    public static func fit<S: SearchSpace>(space: S, architectures: [S.Architecture], errors: [Double], queried: [Int], source: String,
                                           chanceError: Double?, ensembleSize: Int = 3, seed: UInt64 = 0) -> AccuracySurrogate {
        precondition(architectures.count == errors.count && errors.count >= 10, "the surrogate needs at least 10 queried architectures")
        let features = space.surrogateFeatures
        precondition(chanceError != nil || !features.isGated, "a gated surrogate needs its chance error")
        let encodings = architectures.map(space.oneHotEncoding)
        let connected = encodings.indices.filter { features.connectivity(encodings[$0]).value == 1 }
        let rows = Tensor(shape: [connected.count, features.featureCount], scalars: connected.flatMap { features.features(encodings[$0]) })
        let targets = connected.map { Float(Foundation.log(max(errors[$0], 1e-3))) }
        var c = trainingConfiguration
        c.seed = seed
        let models = PredictorTraining.fitEnsemble(rows: rows, targets: targets, configuration: c, size: ensembleSize).map(\.0)
        return AccuracySurrogate(encoding: features.name, ensemble: models, queried: queried, source: source, chanceError: chanceError)
    }

    /// What makes a stored surrogate unusable; nil when it is sound.
    public var problem: String? {
        guard let features = Self.features(named: encoding) else {
            return "encoding '\(encoding)', expected one of \(Self.allFeatures.keys.sorted().joined(separator: ", "))"
        }
        guard !ensemble.isEmpty else { return "the ensemble is empty" }
        if let chanceError {
            guard chanceError.isFinite, chanceError > 0, chanceError < 100 else { return "chance error \(chanceError) %" }
        } else if features.isGated {
            return "no chance error for the \(features.name) gate"
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
