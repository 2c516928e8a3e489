import Autodiff
import Datasets
import Foundation
import NB201Space
import Proxies
import Evaluation
import Search
import SearchSpaces

/// How the hypernetwork reads a trained supernet: the accuracy surrogate fitted on the supernet's
/// estimates of a fixed set of sampled architectures, refitted at the start of every epoch after
/// the warm-up.
public struct SupernetFit: Sendable {
    /// Sampled connected architectures (`ProxySurrogate.connectedSample`).
    public var architectures: [NB201Architecture]
    /// The first this many architecture images score each of them.
    public var validationImages: Int
    /// supernet+proxy: the proxy vote's mean rank of each architecture (1 = worst). The fit's
    /// errors are then the pseudo-errors of the mean of that rank and the supernet's rank.
    public var proxyMeanRanks: [Double]?
    /// What the proxies scored, in words (supernet+proxy).
    public var proxyDescription: String?
    public var ensembleSize: Int

    /// The errors (%) the surrogate is fitted on, from the supernet's accuracy (%) of each
    /// architecture: 100 − accuracy, or with proxy ranks the pseudo-errors of the mean of the two
    /// ranks. A cell the supernet puts at chance stays just below the gate's chance error, so the
    /// surrogate's normalisation always has architectures to span.
    public func targetErrors(accuracies: [Double]) -> [Double] {
        precondition(accuracies.count == architectures.count, "one accuracy per architecture")
        var errors = accuracies.map { 100 - $0 }
        if let proxyMeanRanks {
            let ranks = ProxyVote.meanRanks([accuracies])
            errors = ProxySurrogate.pseudoErrors(meanRanks: zip(ranks, proxyMeanRanks).map { ($0 + $1) / 2 })
        }
        return errors.map { min($0, ProxySurrogate.pseudoErrors.upperBound) }
    }

    public init(architectures: [NB201Architecture], validationImages: Int, proxyMeanRanks: [Double]? = nil,
                proxyDescription: String? = nil, ensembleSize: Int = 3) {
        precondition(proxyMeanRanks.map { $0.count == architectures.count } ?? true, "one proxy rank per architecture")
        (self.architectures, self.validationImages, self.proxyMeanRanks, self.proxyDescription, self.ensembleSize) =
            (architectures, validationImages, proxyMeanRanks, proxyDescription, ensembleSize)
    }
}

/// Supernet mode (MODNAS.md 5 and 8): before each hypernetwork step, one SGD step of the shared
/// weights through four strictly fair architectures (`FairSampling`; the paper samples them from
/// H, which let parameter-free cells win while the convolutions were untrained). The weight step
/// takes `batchSize` × devices weight images. The accuracy objective after the warm-up is, with a
/// `SupernetFit` (the default), the accuracy surrogate fitted on the supernet's validation errors
/// of the fit's architectures, refitted each epoch on their mean over the epochs so far; without one (the paper's), the supernet's
/// cross-entropy on `batchSize` architecture images of H's sample for each training device,
/// min-max normalised by the running range of the epoch. Fronts' estimates are accuracies on the
/// test split.
public final class SupernetAccuracy: SupernetTrainingObjective {
    public let trainer: SupernetTrainer
    /// Test images per accuracy estimate of a front architecture.
    public let evaluationImages: Int
    /// The SGD learning rate decays by a cosine from the configured rate to this one.
    public let finalLearningRate: Float = 0.001
    /// Per training device, this step's architecture images.
    private var architectureBatches: [(images: Tensor, labels: [Int])] = []
    /// The current epoch's image orders (derived from seed and epoch, not checkpointed).
    private var orders: (epoch: Int, weights: [Int], architecture: [Int])?
    private let devices: Int
    var epochRange: ClosedRange<Double>?
    private var lossSum = 0.0, lossCount = 0
    private var estimates: [NB201Architecture: Double] = [:]
    /// nil: the paper's cross-entropy objective.
    public let fit: SupernetFit?
    /// The surrogate of the current epoch (after the warm-up, with a fit).
    public private(set) var fitted: SurrogateAccuracy<NB201SearchSpace>?
    /// The supernet's accuracies of the fit's architectures at each refit so far; each refit fits
    /// their mean, so one epoch's weights do not decide the ranking alone.
    private(set) var estimateHistory: [[Double]] = []

    /// `devices`: how many training devices share each step's images.
    public init(trainer: SupernetTrainer, devices: Int, evaluationImages: Int, fit: SupernetFit? = nil) {
        self.trainer = trainer
        self.devices = devices
        self.evaluationImages = evaluationImages
        self.fit = fit
    }

    public var mode: AccuracyMode { fit?.proxyMeanRanks != nil ? .supernetProxy : .supernet }
    public var supernetConfiguration: SupernetConfiguration { trainer.configuration }
    public var trainingImages: Int { trainer.splits.weights.count + trainer.splits.architecture.count }
    public var testImages: Int { trainer.splits.test.count }
    public var errorRange: ClosedRange<Double>? { fitted?.errorRange }
    public var epochTrainingLoss: Double? { lossCount > 0 ? lossSum / Double(lossCount) : nil }

    public var settings: String {
        let c = trainer.configuration, s = trainer.splits
        return "supernet C = \(c.channels), N = \(c.cellsPerStage)\(c.sharedKernels == true ? " (1×1 kernels the centre of the 3×3 ones)" : ""), weights trained on 4 strictly fair architectures per step "
            + "(\(c.batchSize * devices / 4) images each), the hypernetwork waiting for \(c.warmupEpochs) warm-up epoch(s), SGD lr \(c.learningRate) × \(devices) devices cosine to \(finalLearningRate), "
            + "momentum \(c.momentum), weight decay \(c.weightDecay), clip \(c.gradientClip)\(c.augment ? ", crop and flip" : ""); "
            + "\(s.weights.name): \(s.weights.count) weight + \(s.architecture.count) architecture images, "
            + "fronts scored on \(min(evaluationImages, s.test.count)) test images; seed \(c.seed); " + objectiveDescription
    }

    /// What the hypernetwork's accuracy objective reads after the warm-up.
    private var objectiveDescription: String {
        guard let fit else {
            return "architecture steps on the supernet's cross-entropy of \(trainer.configuration.batchSize) architecture images per device (the paper's)"
        }
        let scored = "the supernet's accuracy on the first \(min(fit.validationImages, trainer.splits.architecture.count)) architecture images of \(fit.architectures.count) sampled connected architectures"
        let target = fit.proxyDescription.map { "the mean of the ranks of \(scored) and of the \($0), as pseudo-errors" } ?? scored
        return "architecture steps on a surrogate (ensemble of \(fit.ensembleSize)) fitted on \(target) (estimated), refitted each epoch after the warm-up on the mean of the estimates of every epoch so far"
    }

    /// Scores the fit's architectures with the current weights and fits the surrogate on the mean
    /// of these and every earlier refit's estimates.
    private func refit(_ fit: SupernetFit) {
        estimateHistory.append(fit.architectures.map { trainer.accuracy(of: $0, on: trainer.splits.architecture, limit: fit.validationImages) })
        let accuracies = fit.architectures.indices.map { i in estimateHistory.reduce(0) { $0 + $1[i] } / Double(estimateHistory.count) }
        let surrogate = AccuracySurrogate.fit(space: NB201SearchSpace(), architectures: fit.architectures, errors: fit.targetErrors(accuracies: accuracies), queried: [],
                                              source: objectiveDescription, chanceError: ProxySurrogate.chanceError,
                                              ensembleSize: fit.ensembleSize, seed: trainer.configuration.seed)
        // Errors are clamped below chance, so the fit cannot put every architecture at chance;
        // should it fail all the same, the previous epoch's surrogate stays.
        fitted = (try? SurrogateAccuracy(surrogate, mode: mode)) ?? fitted
    }

    /// Steps per epoch: one pass over the weight images.
    public var stepsPerEpoch: Int { max(trainer.splits.weights.count / (trainer.configuration.batchSize * devices), 1) }

    /// Connected cells (a cell without a live path computes a constant).
    public func normalizationSet(_ all: [NB201Architecture]) throws -> [Int] {
        all.indices.filter { PathEncoding.isConnected(all[$0]) }
    }

    /// The epoch's permutation of `count` images (fixed by seed and epoch, so resumable without state).
    private func order(_ count: Int, epoch: Int, salt: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: trainer.configuration.seed &* 1_000_003 &+ UInt64(epoch) &* 7919 &+ salt)
        var order = Array(0..<count)
        rng.shuffle(&order)
        return order
    }

    /// The step's images: one batch per device, consecutive in the epoch's order.
    private func batches(_ order: [Int], step: Int) -> [[Int]] {
        let b = trainer.configuration.batchSize
        return (0..<devices).map { k in (0..<b).map { order[((step * devices + k) * b + $0) % order.count] } }
    }

    public var warmupEpochs: Int { trainer.configuration.warmupEpochs }

    /// The weight step trains the strictly fair architectures of `FairSampling` on the step's weight
    /// images (split between them), whatever the hypernetwork samples: the shared weights then rate
    /// every operation from as many steps, and the hypernetwork (after the warm-up) only reads them.
    public func prepareStep(epoch: Int, stepInEpoch: Int, of stepsPerEpoch: Int, epochs: Int) {
        if stepInEpoch == 0 {
            (epochRange, lossSum, lossCount) = (nil, 0, 0)
            if let fit, epoch > warmupEpochs { refit(fit) }
        }
        let start = trainer.configuration.learningRate * Float(devices), step = (epoch - 1) * stepsPerEpoch + stepInEpoch
        trainer.setLearningRate(finalLearningRate + (start - finalLearningRate) * cosineFactor(step: step, of: epochs * stepsPerEpoch))
        if orders?.epoch != epoch {
            orders = (epoch, order(trainer.splits.weights.count, epoch: epoch, salt: 1), order(trainer.splits.architecture.count, epoch: epoch, salt: 2))
        }
        var rng = SeededGenerator(seed: trainer.configuration.seed &* 2_654_435_761 &+ UInt64(step))
        let fair = FairSampling.architectures(using: &rng).map { Tensor(shape: [6, 5], scalars: $0.oneHotEncoding) }
        let images = batches(orders!.weights, step: stepInEpoch).flatMap { $0 }
        lossSum += trainer.weightStep(batches: FairSampling.split(images, into: fair.count), samples: fair)
        lossCount += 1
        if fit == nil {
            var unused = SeededGenerator(seed: 0)   // no augmentation: the generator is not drawn from
            architectureBatches = batches(orders!.architecture, step: stepInEpoch).map { trainer.splits.architecture.batch($0, using: &unused) }
        }
        estimates.removeAll()
    }

    public func normalizedError(_ encoding: Variable, device: Int) -> Variable {
        if let fitted { return fitted.normalizedError(encoding, device: device) }
        precondition(architectureBatches.indices.contains(device), "normalizedError before prepareStep")
        let batch = architectureBatches[device]
        let sample = reshape(encoding, to: [NB201Architecture.edgeCount, NB201Architecture.operationCount])
        let loss = crossEntropy(trainer.supernet(Variable(batch.images), sample: sample), labels: batch.labels)
        let value = Double(loss.value.scalars[0])
        let range = epochRange.map { min($0.lowerBound, value)...max($0.upperBound, value) } ?? value...value
        epochRange = range
        let span = Float(max(range.upperBound - range.lowerBound, 1e-6))
        return Variable.result(Tensor(scalar: Float(value - range.lowerBound) / span), parents: [loss]) { g in
            [Tensor(shape: loss.shape, scalars: [g.scalars[0] / span])]
        }
    }

    /// The fitted surrogate's errors (rank pseudo-errors in supernet+proxy mode), not the supernet's.
    public func objectiveErrors(_ architectures: [NB201Architecture]) -> [Double] {
        fitted?.errors(architectures) ?? errors(architectures)
    }

    public func errors(_ architectures: [NB201Architecture]) -> [Double] {
        architectures.map { arch in
            if let known = estimates[arch] { return known }
            let error = 100 - trainer.accuracy(of: arch, on: trainer.splits.test, limit: evaluationImages)
            estimates[arch] = error
            return error
        }
    }

    /// Weights, momentum, augmentation RNG and the epoch's running state.
    struct State: Codable {
        var weights: [Data]
        var velocity: [Data]
        var rng: [UInt64]
        var epochRange: [Double]?
        var lossSum: Double
        var lossCount: Int
        /// `estimateHistory` (absent in checkpoints written before it).
        var estimateHistory: [[Double]]?
    }

    public func checkpointState() throws -> Data? {
        let state = State(weights: trainer.supernet.parameters.map { FloatData.encode($0.value.scalars) },
                          velocity: trainer.velocityState.map(FloatData.encode), rng: trainer.rngState,
                          epochRange: epochRange.map { [$0.lowerBound, $0.upperBound] }, lossSum: lossSum, lossCount: lossCount,
                          estimateHistory: estimateHistory)
        return try JSONEncoder().encode(state)
    }

    public func restore(_ data: Data) throws {
        let state = try JSONDecoder().decode(State.self, from: data)
        let parameters = trainer.supernet.parameters
        let weights = try state.weights.map(FloatData.decode), velocity = try state.velocity.map(FloatData.decode)
        guard weights.count == parameters.count, zip(weights, parameters).allSatisfy({ $0.count == $1.value.count }),
              velocity.count == parameters.count, zip(velocity, parameters).allSatisfy({ $0.isEmpty || $0.count == $1.value.count }),
              state.rng.count == 4 else {
            throw SearchError.badConfiguration("the checkpoint's supernet has another shape; resume with the flags of the interrupted search")
        }
        for (p, w) in zip(parameters, weights) { p.value = Tensor(shape: p.value.shape, scalars: w) }
        trainer.velocityState = velocity
        trainer.rngState = state.rng
        epochRange = state.epochRange.map { $0[0]...$0[1] }
        (lossSum, lossCount) = (state.lossSum, state.lossCount)
        // Only the fitted objective reads the estimates (the rank check restores just the weights).
        if let fit {
            let history = state.estimateHistory ?? []
            guard history.allSatisfy({ $0.count == fit.architectures.count && $0.allSatisfy(\.isFinite) }) else {
                throw SearchError.badConfiguration("the checkpoint's supernet estimates are of another set of architectures; resume with the flags of the interrupted search")
            }
            estimateHistory = history
        }
        estimates.removeAll()
    }
}
