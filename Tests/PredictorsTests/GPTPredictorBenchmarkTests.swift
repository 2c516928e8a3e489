import DeviceModel
import Testing
@testable import Predictors
import SearchSpaces
import NB201Space

/// The GPT benchmark judges predictors on HW-GPT-Bench's own split (`hw_order` < 8,000 trains),
/// per metric, and leave-one-device-out on the held-out architectures.
@Suite struct GPTPredictorBenchmarkTests {
    @Test func predictorsAreJudgedOnTheBenchmarksOwnSplit() throws {
        let space = SpaceName.gpt.space
        let positions = try #require(try BenchmarkTables.trainingPositions(space: space))
        #expect(positions.count == 8_000)
        // MODNAS's references are the training list's hw_order 0, 888, …, 7999 (the device table's rows are arch_index order).
        #expect(try space.referenceStrings().allSatisfy { positions.contains($0.index) })
        #expect(try BenchmarkTables.trainingPositions(space: NB201SearchSpace()) == nil)

        var bench = PredictorBenchmark()
        bench.trainingPositions = positions
        bench.configuration.maxEpochs = 2
        bench.metaConfiguration.maxEpochs = 2
        bench.metaSamplesPerDevice = 100
        let energies = try BenchmarkTables.trainingDevices(space: space, metric: DeviceMetric.energy)
        #expect(energies.count == 7 && energies.allSatisfy { $0.metric == DeviceMetric.energy })
        let mlp = try bench.perDeviceMLP([energies[0]])
        #expect(mlp.count == 1 && mlp[0].metric == DeviceMetric.energy && mlp[0].metrics.count == 2_000)
        let meta = try bench.metaLeaveOneOut(energies, heldOut: [energies[1].device])
        #expect(meta.count == 1 && meta[0].device == energies[1].device && meta[0].metrics.count == 2_000)
    }
}
