import Autodiff
import Datasets
import Foundation
import Predictors
import SearchSpaces

/// Is the supernet's estimate any good? Rank agreement, over architectures spread across the
/// space, between the trained supernet's accuracy on the architecture (validation) images and
/// each architecture's accuracy there after short stand-alone training on the weight images.
public enum SupernetRanking {
    public struct Row: Sendable {
        public var architecture: NB201Architecture
        public var supernetAccuracy: Double
        public var standAloneAccuracy: Double
        public var seconds: Double
    }

    /// `count` connected architectures evenly spaced in the order of multiply-accumulates (ties by code).
    public static func spreadArchitectures(count: Int) -> [NB201Architecture] {
        let all: [NB201Architecture] = (0..<NB201Architecture.spaceSize).map { NB201Architecture(code: $0) }
        let costs: [(arch: NB201Architecture, macs: Int)] = all.filter(PathEncoding.isConnected).map { ($0, ArchitectureCost($0).multiplyAccumulates) }
        let connected = costs.sorted { $0.macs != $1.macs ? $0.macs < $1.macs : $0.arch.code < $1.arch.code }.map(\.arch)
        guard count > 1 else { return Array(connected.prefix(count)) }
        return (0..<count).map { connected[$0 * (connected.count - 1) / (count - 1)] }
    }

    /// Trains `architecture` alone (same shape as the supernet) for `epochs` passes over up to
    /// `images` weight images: SGD momentum 0.9, lr 0.05 cosine to 0, weight decay 5e-4, batch 64.
    /// Returns its top-1 accuracy (%) on up to `validationImages` architecture images.
    public static func standAloneAccuracy(_ architecture: NB201Architecture, splits: DatasetSplits, shape: NB201NetworkShape,
                                          epochs: Int, images: Int, validationImages: Int, seed: UInt64) -> Double {
        let network = NB201Network(architecture, shape: shape, seed: seed)
        let parameters = network.parameters
        let sgd = SGD(parameters: parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        var rng = SeededGenerator(seed: seed &+ 17)
        let n = min(images, splits.weights.count), batch = 64
        let steps = max(epochs * n / batch, 1)
        var order = Array(0..<n)
        for step in 0..<steps {
            if step * batch % n < batch { rng.shuffle(&order) }
            sgd.learningRate = 0.05 * cosineFactor(step: step, of: steps)
            let indices = (0..<batch).map { order[(step * batch + $0) % n] }
            let (x, labels) = splits.weights.batch(indices, using: &rng)
            zeroGradients(parameters)
            crossEntropy(network(Variable(x), training: true), labels: labels).backward()
            _ = clipGradientNorm(parameters, maxNorm: 5)
            sgd.step()
        }
        let m = min(validationImages, splits.architecture.count)
        var correct = 0
        for start in stride(from: 0, to: m, by: batch) {
            let (x, labels) = splits.architecture.batch(Array(start..<min(start + batch, m)), using: &rng)
            correct += zip(predictedClasses(network.infer(x)), labels).filter { $0 == $1 }.count
        }
        return 100 * Double(correct) / Double(max(m, 1))
    }

    /// The trainer of a finished supernet search (output folder `directory`): its data splits
    /// rebuilt from the stored settings, its weights from the last checkpoint.
    public static func trainer(searchDirectory directory: String) throws -> SupernetTrainer {
        let file = try HypernetworkFile.load((directory as NSString).appendingPathComponent("hypernetwork.json"))
        guard let record = file.supernet else {
            throw SearchError.badConfiguration("\(directory) holds a \(file.accuracyMode)-mode search; run modnas search --accuracy supernet first")
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

    /// The rows and their Spearman ρ and Kendall τ.
    public static func run(trainer: SupernetTrainer, architectures: [NB201Architecture], epochs: Int, images: Int, validationImages: Int,
                           progress: (Row) -> Void = { _ in }) -> (rows: [Row], spearman: Double, kendall: Double) {
        var rows: [Row] = []
        for (k, arch) in architectures.enumerated() {
            let started = Date()
            let supernet = trainer.accuracy(of: arch, on: trainer.splits.architecture, limit: validationImages)
            let alone = standAloneAccuracy(arch, splits: trainer.splits, shape: trainer.supernet.shape, epochs: epochs, images: images,
                                           validationImages: validationImages, seed: trainer.configuration.seed &+ UInt64(k))
            rows.append(Row(architecture: arch, supernetAccuracy: supernet, standAloneAccuracy: alone, seconds: Date().timeIntervalSince(started)))
            progress(rows.last!)
        }
        let a = rows.map(\.supernetAccuracy), b = rows.map(\.standAloneAccuracy)
        return (rows, PredictionMetrics.spearman(a, b), PredictionMetrics.kendallTau(a, b))
    }
}
