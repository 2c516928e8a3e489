import Autodiff
import Datasets
import Foundation
import SearchSpaces
import NB201Space
import Evaluation
import Search

/// The weight side of the supernet search: one SGD step on a batch for a set of sampled
/// architectures (one per training device; the loss is their mean cross-entropy), and accuracy
/// estimates of single architectures with the shared weights.
public final class SupernetTrainer {
    public let supernet: NB201Supernet
    public let configuration: SupernetConfiguration
    public let splits: DatasetSplits
    let sgd: SGD
    var rng: SeededGenerator

    public init(splits: DatasetSplits, configuration: SupernetConfiguration) {
        let w = splits.weights
        let shape = NB201NetworkShape(channels: configuration.channels, cellsPerStage: configuration.cellsPerStage,
                                      resolution: w.height, inputChannels: w.channels, classes: w.classes)
        supernet = NB201Supernet(shape: shape, seed: configuration.seed, sharedKernels: configuration.sharedKernels ?? false)
        self.configuration = configuration
        self.splits = splits
        sgd = SGD(parameters: supernet.parameters, learningRate: configuration.learningRate, momentum: configuration.momentum,
                  weightDecay: configuration.weightDecay)
        rng = SeededGenerator(seed: configuration.seed &+ 31)
    }

    /// Sets the learning rate (for a schedule).
    public func setLearningRate(_ rate: Float) { sgd.learningRate = rate }

    /// 64-bit FNV-1a over the bit patterns of every weight, in hex: which trained supernet a
    /// stored result came from (the rank check resumes only with the same weights).
    public var weightFingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for parameter in supernet.parameters {
            for scalar in parameter.value.scalars {
                var bits = scalar.bitPattern
                for _ in 0..<4 {
                    hash = (hash ^ UInt64(bits & 0xff)) &* 0x0000_0100_0000_01b3
                    bits >>= 8
                }
            }
        }
        return String(format: "%016llx", hash)
    }

    /// SGD momentum buffers and the augmentation generator, for checkpoints.
    public var velocityState: [[Float]] {
        get { sgd.velocityState }
        set { sgd.velocityState = newValue }
    }
    public var rngState: [UInt64] {
        get { rng.stateWords }
        set { rng.stateWords = newValue }
    }

    /// One SGD step: the weight images at `batches[k]` through architecture `samples[k]` (one-hot
    /// [6, 5]), loss the mean of their cross-entropies; returns that mean.
    @discardableResult
    public func weightStep(batches: [[Int]], samples: [Tensor]) -> Double {
        precondition(batches.count == samples.count, "one batch per sampled architecture")
        let parameters = supernet.parameters
        zeroGradients(parameters)
        var total = 0.0
        for (indices, sample) in zip(batches, samples) {
            let (images, labels) = splits.weights.batch(indices, augmentation: configuration.augment ? Augmentation() : nil, using: &rng)
            let loss = crossEntropy(supernet(Variable(images), sample: Variable(sample)), labels: labels)
            loss.backward(seed: Tensor(scalar: 1 / Float(samples.count)))
            total += Double(loss.value.scalars[0]) / Double(samples.count)
        }
        _ = clipGradientNorm(parameters, maxNorm: configuration.gradientClip)
        sgd.step()
        return total
    }

    /// Top-1 accuracy (%) of `architecture` with the shared weights on up to `limit` images of `data`.
    public func accuracy(of architecture: NB201Architecture, on data: ImageDataset, limit: Int? = nil) -> Double {
        let sample = Variable(Tensor(shape: [6, 5], scalars: architecture.oneHotEncoding))
        // Batch statistics need enough images.
        return topOneAccuracy(on: data, count: min(limit ?? data.count, data.count), batch: max(configuration.batchSize, 64), using: &rng) { images in
            withoutTape { supernet(Variable(images), sample: sample).value }
        }
    }
}

/// Top-1 accuracy (%) of `logits` on the first `n` images of `data`, scored `batch` at a time.
func topOneAccuracy(on data: ImageDataset, count n: Int, batch: Int, using rng: inout SeededGenerator, _ logits: (Tensor) -> Tensor) -> Double {
    var correct = 0
    for start in stride(from: 0, to: n, by: batch) {
        let (images, labels) = data.batch(Array(start..<min(start + batch, n)), using: &rng)
        correct += zip(predictedClasses(logits(images)), labels).filter { $0 == $1 }.count
    }
    return 100 * Double(correct) / Double(max(n, 1))
}

/// The class with the highest logit in each row of `logits` [batch, classes].
func predictedClasses(_ logits: Tensor) -> [Int] {
    let k = logits.shape[1]
    return (0..<logits.shape[0]).map { r in (0..<k).max { logits.scalars[r * k + $0] < logits.scalars[r * k + $1] }! }
}

/// Training throughput of the supernet: images per second through weight steps shaped as the
/// search's (one random architecture per training device, each on its own batch; forward,
/// backward and SGD) and the share of that time spent in sgemm.
public enum SupernetThroughput {
    public struct Result: Sendable {
        public var imagesPerSecond: Double
        public var sgemmShare: Double
        public var steps: Int
        public var seconds: Double
    }

    /// Times `steps` weight steps of `architectures` uniformly sampled connected architectures, after one untimed step.
    public static func measure(_ trainer: SupernetTrainer, steps: Int, architectures: Int = 1, seed: UInt64 = 0) -> Result {
        var rng = SeededGenerator(seed: seed)
        let batch = trainer.configuration.batchSize, weights = trainer.splits.weights.count
        func randomSample() -> Tensor {
            var arch = NB201Architecture(code: Baselines.randomCode(&rng))
            while !PathEncoding.isConnected(arch) { arch = NB201Architecture(code: Baselines.randomCode(&rng)) }
            return Tensor(shape: [6, 5], scalars: arch.oneHotEncoding)
        }
        func batches(_ step: Int) -> [[Int]] {
            (0..<architectures).map { k in (0..<batch).map { ((step * architectures + k) * batch + $0) % weights } }
        }
        trainer.weightStep(batches: batches(0), samples: (0..<architectures).map { _ in randomSample() })
        let samples = (0..<steps).map { _ in (0..<architectures).map { _ in randomSample() } }
        SGEMMTimer.start()
        defer { SGEMMTimer.stop() }
        let start = DispatchTime.now()
        for step in 0..<steps { trainer.weightStep(batches: batches(step + 1), samples: samples[step]) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Result(imagesPerSecond: Double(steps * architectures * batch) / seconds, sgemmShare: SGEMMTimer.seconds / seconds,
                      steps: steps, seconds: seconds)
    }
}

/// The output folder of a finished supernet search.
public enum SupernetSearchFolder {
    /// The search's trainer: its data splits rebuilt from the stored settings, its weights from
    /// the last checkpoint.
    public static func trainer(_ directory: String) throws -> SupernetTrainer {
        let file = try HypernetworkFile.load((directory as NSString).appendingPathComponent("hypernetwork.json"))
        guard let record = file.supernet else {
            throw SearchError.badConfiguration("\(directory) holds a \(file.accuracyMode.rawValue)-mode search; run modnas search --accuracy supernet first")
        }
        let checkpoint = try SearchCheckpoint.load((directory as NSString).appendingPathComponent("checkpoint.json"))
        guard let state = checkpoint.accuracyState, checkpoint.epochs == file.configuration.epochs else {
            throw SearchError.badConfiguration("the checkpoint in \(directory) is not that of the finished search; rerun modnas search (or --resume it)")
        }
        let (training, test) = try DatasetSource(parsing: record.dataset).load()
        let splits = DatasetSplits(training: training, test: test, limit: record.trainingImages, testLimit: record.testImages, seed: record.configuration.seed)
        let trainer = SupernetTrainer(splits: splits, configuration: record.configuration)
        try SupernetAccuracy(trainer: trainer, devices: file.trainingDevices.count, evaluationImages: record.testImages).restore(state)
        return trainer
    }
}

/// Strictly fair sampling for weight training (FairNAS, Chu et al., ICCV 2021): per edge a random
/// order of the four operations other than `none`; the k-th architecture takes the k-th operation
/// of every edge, so each operation of each edge trains exactly once per step. `none` trains
/// nothing and is left out; every such architecture is connected.
public enum FairSampling {
    static let operations: [NB201Operation] = [.skipConnect, .conv1x1, .conv3x3, .averagePool3x3]

    public static func architectures(using rng: inout SeededGenerator) -> [NB201Architecture] {
        let orders = (0..<NB201Architecture.edgeCount).map { _ -> [NB201Operation] in
            var order = operations
            rng.shuffle(&order)
            return order
        }
        return operations.indices.map { k in NB201Architecture(operations: orders.map { $0[k] }) }
    }

    /// `images` in `parts` consecutive batches of equal size (at least one image each, wrapping).
    public static func split(_ images: [Int], into parts: Int) -> [[Int]] {
        let size = max(images.count / parts, 1)
        return (0..<parts).map { k in (0..<size).map { images[(k * size + $0) % images.count] } }
    }
}
