import Autodiff
import Datasets
import Foundation
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

@Suite struct SupernetTrainingTests {
    static func trainer() -> SupernetTrainer {
        let data = SyntheticDataset.make(count: 512, classes: 4, channels: 1, size: 8, seed: 1)
        let test = SyntheticDataset.make(count: 128, classes: 4, channels: 1, size: 8, seed: 2)
        var c = SupernetConfiguration()
        c.channels = 4
        c.batchSize = 32
        c.learningRate = 0.05
        return SupernetTrainer(splits: DatasetSplits(training: data, test: test, seed: 3), configuration: c)
    }

    @Test func sharedWeightsTrainedOnRandomPathsClassifyAboveChance() throws {
        let t = Self.trainer()
        let arch = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
        let before = t.accuracy(of: arch, on: t.splits.test)
        var rng = SeededGenerator(seed: 4)
        for step in 0..<40 {
            // Two random connected architectures per step, as two devices would sample.
            let samples = (0..<2).map { _ -> Tensor in
                var a = NB201Architecture(code: Int(rng.next() % 15_625))
                while !PathEncoding.isConnected(a) { a = NB201Architecture(code: Int(rng.next() % 15_625)) }
                return Tensor(shape: [6, 5], scalars: a.oneHotEncoding)
            }
            t.weightStep(batches: samples.map { _ in (0..<32).map { (step * 32 + $0) % t.splits.weights.count } }, samples: samples)
        }
        let after = t.accuracy(of: arch, on: t.splits.test)
        #expect(after > 60 && after > before + 20, "accuracy \(before) % → \(after) %")
    }

    @Test func throughputCountsImagesAndSGEMMTime() {
        let r = SupernetThroughput.measure(Self.trainer(), steps: 3)
        #expect(r.steps == 3 && r.imagesPerSecond > 0 && r.sgemmShare > 0 && r.sgemmShare < 1)
        #expect(!SGEMMTimer.isOn && SGEMMTimer.calls > 0)
    }
}

@Suite(.serialized) struct SupernetSearchTests {
    /// A supernet-mode search over two shipped devices on the synthetic set.
    static func search(epochs: Int, seed: UInt64 = 0) throws -> MODNASSearch<NB201SearchSpace> {
        let data = SyntheticDataset.make(count: 256, classes: 4, channels: 1, size: 8, seed: 1)
        let test = SyntheticDataset.make(count: 64, classes: 4, channels: 1, size: 8, seed: 2)
        var s = SupernetConfiguration()
        (s.channels, s.batchSize, s.warmupEpochs, s.seed) = (2, 8, 1, seed)
        let accuracy = SupernetAccuracy(trainer: SupernetTrainer(splits: DatasetSplits(training: data, test: test, seed: 3), configuration: s),
                                        devices: 2, evaluationImages: 64)
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch, c.preferencesPerStep, c.seed) = (epochs, accuracy.stepsPerEpoch, 1, seed)
        return try MODNASSearch(devices: [try Shipped.device("pixel3"), try Shipped.device("silver_4114")], accuracy: accuracy, configuration: c)
    }

    static func state(_ search: MODNASSearch<NB201SearchSpace>) -> [[Float]] {
        (search.hypernetwork.parameters + (search.accuracy as! SupernetAccuracy).trainer.supernet.parameters).map(\.value.scalars)
    }

    @Test func aRestoredCheckpointContinuesBitForBit() throws {
        let whole = try Self.search(epochs: 4)
        whole.run()
        let interrupted = try Self.search(epochs: 4)
        interrupted.run(epochs: 2)   // the warm-up epoch, then one of hypernetwork steps
        let checkpoint = try interrupted.checkpoint()
        // Checkpointed after architecture steps: a restore that ignored the hypernetwork's
        // weights, Adam's moments or the generator would not continue bit for bit.
        #expect(checkpoint.adamSteps > 0)
        #expect(interrupted.hypernetwork.parameters.map(\.value.scalars) != (try Self.search(epochs: 4)).hypernetwork.parameters.map(\.value.scalars))
        let saved = try JSONEncoder().encode(checkpoint)
        interrupted.run(epochs: 1)   // work after the checkpoint is lost with the process
        let resumed = try Self.search(epochs: 4)
        try resumed.restore(try JSONDecoder().decode(SearchCheckpoint.self, from: saved))
        #expect(resumed.log.count == 2)
        resumed.run()
        #expect(Self.state(resumed) == Self.state(whole))
        #expect(resumed.log.map(\.meanLoss) == whole.log.map(\.meanLoss) && resumed.log.map(\.supernetLoss) == whole.log.map(\.supernetLoss))
        let fronts = { (s: MODNASSearch<NB201SearchSpace>) in s.devices.flatMap { s.generator.front(for: $0, preferences: 8) } }
        #expect(fronts(resumed) == fronts(whole))
        // The weights moved: the check would pass vacuously on a search that does nothing.
        #expect(Self.state(whole) != Self.state(try Self.search(epochs: 4)))
    }

    @Test func impossibleCheckpointsAreRefusedInOneLine() throws {
        let search = try Self.search(epochs: 3)
        search.run(epochs: 2)
        let good = try search.checkpoint()
        let dir = try Scratch.directory("modnas-ckpt")
        try good.write(to: dir + "/good.json")
        #expect(try SearchCheckpoint.load(dir + "/good.json").log == good.log)
        var zeros = good
        zeros.rng = [0, 0, 0, 0]
        var skipped = good
        skipped.log[1].epoch = 5
        var longer = good
        longer.log += [good.log[1], good.log[1]]
        var infinite = good
        infinite.log[0].seconds = .infinity
        for (name, bad) in [("zeros", zeros), ("skipped", skipped), ("longer", longer)] {
            try bad.write(to: dir + "/\(name).json")
            #expect { try SearchCheckpoint.load(dir + "/\(name).json") } throws: {
                "\($0)".contains("impossible search state") && !"\($0)".contains(where: \.isNewline)
            }
        }
        #expect(infinite.problem != nil)
    }

    @Test func aCheckpointOfOtherSettingsIsRefused() throws {
        let a = try Self.search(epochs: 2)
        a.run(epochs: 1)
        let other = try Self.search(epochs: 2, seed: 1)
        #expect(throws: SearchError.self) { try other.restore(try a.checkpoint()) }
    }

    /// The supernet's accuracy term: its gradient with respect to the sampled one-hot entries
    /// matches central differences of the supernet's cross-entropy (scaled by the epoch's range).
    @Test func supernetErrorGradientMatchesFiniteDifferences() throws {
        let search = try Self.search(epochs: 1)
        let accuracy = search.accuracy as! SupernetAccuracy
        // Node 2 leaves by a skip: through a conv and its batch norm the loss would barely depend on
        // node 2's scale, and that tiny derivative is below what Float32 differences resolve.
        let arch = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|skip_connect~2|")
        accuracy.prepareStep(epoch: 2, stepInEpoch: 0, of: 10, epochs: 3)
        accuracy.epochRange = 0...10   // wider than any value below, so it stays fixed
        let x = arch.oneHotEncoding
        let sample = Variable(Tensor(shape: [6, 5], scalars: x), requiresGrad: true)
        accuracy.normalizedError(sample, device: 0).backward()
        let gradient = sample.grad!.scalars
        let h: Float = 1e-3   // small: the ReLUs make larger steps cross kinks
        var numeric: [Int: Double] = [:]
        for k in x.indices where x[k] == 1 && k % 5 != 0 {
            func value(_ v: Float) -> Double {
                var y = x
                y[k] = v
                return Double(withoutTape { accuracy.normalizedError(Variable(Tensor(shape: [6, 5], scalars: y)), device: 0) }.value.scalars[0])
            }
            numeric[k] = (value(1 + h) - value(1 - h)) / Double(2 * h)
        }
        #expect(numeric.count == 5)   // the 5 sampled entries that are not `none`
        let scale = numeric.values.map(abs).max()!
        for (k, n) in numeric { #expect(abs(Double(gradient[k]) - n) < 0.02 * scale, "entry \(k): \(gradient[k]) vs \(n)") }
        #expect(gradient.enumerated().allSatisfy { x[$0.offset] == 1 || $0.element == 0 }, "only sampled entries get gradient")
    }
}
