import Autodiff
import Datasets
import Testing
@testable import Search
import SearchSpaces

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
            t.weightStep(indices: (0..<32).map { (step * 32 + $0) % t.splits.weights.count }, samples: samples)
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
