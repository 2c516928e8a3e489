import Autodiff
import Datasets
import Foundation
import Statistics
import Testing
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

@Suite(.serialized) struct SupernetFitTests {
    static let architectures = ProxySurrogate.connectedSample(of: NB201SearchSpace(), count: 16, seed: 0)

    /// A supernet-mode search over two shipped devices on the synthetic set whose hypernetwork
    /// reads a surrogate fitted on the supernet's estimates of 16 architectures.
    static func search(epochs: Int, proxyMeanRanks: [Double]? = nil) throws -> MODNASSearch<NB201SearchSpace> {
        let data = SyntheticDataset.make(count: 256, classes: 4, channels: 1, size: 8, seed: 1)
        let test = SyntheticDataset.make(count: 64, classes: 4, channels: 1, size: 8, seed: 2)
        var s = SupernetConfiguration()
        (s.channels, s.batchSize, s.warmupEpochs) = (2, 8, 1)
        let fit = SupernetFit(architectures: architectures, validationImages: 48, proxyMeanRanks: proxyMeanRanks, ensembleSize: 1)
        let accuracy = SupernetAccuracy(trainer: SupernetTrainer(splits: DatasetSplits(training: data, test: test, seed: 3), configuration: s),
                                        devices: 2, evaluationImages: 64, fit: fit)
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch, c.preferencesPerStep) = (epochs, accuracy.stepsPerEpoch, 2)
        return try MODNASSearch(devices: [try Shipped.device("pixel3"), try Shipped.device("silver_4114")], accuracy: accuracy, configuration: c)
    }

    @Test func targetErrorsAreTheSupernetsOrTheRankAverageWithTheProxies() {
        let four = Array(Self.architectures.prefix(4))
        let accuracies = [80.0, 90, 70, 5]
        // 95 % error is clamped just below the gate's chance error of 90 %.
        #expect(SupernetFit(architectures: four, validationImages: 10).targetErrors(accuracies: accuracies) == [20, 10, 30, 89])
        // Supernet ranks 3, 4, 2, 1 and proxy ranks 4, 3, 2, 1: means 3.5, 3.5, 2, 1.
        let hybrid = SupernetFit(architectures: four, validationImages: 10, proxyMeanRanks: [4, 3, 2, 1]).targetErrors(accuracies: accuracies)
        let expected = ProxySurrogate.pseudoErrors(meanRanks: [3.5, 3.5, 2, 1])
        #expect(zip(hybrid, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(hybrid)")
        #expect(hybrid[0] == hybrid[1] && hybrid[1] < hybrid[2] && hybrid[2] < hybrid[3])
    }

    @Test func afterTheWarmUpTheHypernetworkReadsASurrogateOfTheSupernetsEstimates() throws {
        let search = try Self.search(epochs: 3)
        let accuracy = search.accuracy as! SupernetAccuracy
        search.run(epochs: 1)
        #expect(accuracy.fitted == nil && accuracy.errorRange == nil, "no surrogate during the warm-up")
        // The refit at the start of epoch 2 reads the weights as they are now.
        let trainer = accuracy.trainer, fit = accuracy.fit!
        let targets = fit.targetErrors(accuracies: fit.architectures.map { trainer.accuracy(of: $0, on: trainer.splits.architecture, limit: 48) })
        accuracy.prepareStep(epoch: 2, stepInEpoch: 0, of: search.configuration.stepsPerEpoch, epochs: 3)
        let fitted = try #require(accuracy.fitted)
        #expect(accuracy.errorRange != nil && accuracy.mode == .supernet && accuracy.settings.contains("refitted each epoch"))
        let estimates = fitted.errors(fit.architectures)
        // The search's own HV reads what the hypernetwork reads, not the fronts' test-split estimates.
        #expect(accuracy.objectiveErrors(fit.architectures) == estimates && accuracy.errors(fit.architectures) != estimates)
        #expect(Set(targets).count > 3, "the supernet tells the architectures apart: \(targets)")
        #expect(RankCorrelation.spearman(estimates, targets) > 0.6, "\(estimates) vs \(targets)")
        // The objective's gradient is the surrogate's, reaching the sample.
        let sample = Variable(Tensor(shape: [30], scalars: fit.architectures[0].oneHotEncoding), requiresGrad: true)
        accuracy.normalizedError(sample, device: 1).backward()
        #expect(sample.grad!.scalars.contains { $0 != 0 })
    }

    /// Each refit fits the mean of the estimates of every refit so far, not the current weights' alone.
    @Test func eachRefitFitsTheMeanOfTheEstimatesSoFar() throws {
        let search = try Self.search(epochs: 3)
        let accuracy = search.accuracy as! SupernetAccuracy, trainer = accuracy.trainer, fit = accuracy.fit!
        func estimates() -> [Double] { fit.architectures.map { trainer.accuracy(of: $0, on: trainer.splits.architecture, limit: 48) } }
        search.run(epochs: 1)
        let first = estimates()
        search.run(epochs: 1)
        let second = estimates()
        #expect(first != second, "the weights trained in epoch 2")
        accuracy.prepareStep(epoch: 3, stepInEpoch: 0, of: search.configuration.stepsPerEpoch, epochs: 3)
        #expect(accuracy.estimateHistory == [first, second])
        let mean = zip(first, second).map { ($0 + $1) / 2 }
        let expected = AccuracySurrogate.fit(space: NB201SearchSpace(), architectures: fit.architectures, errors: fit.targetErrors(accuracies: mean), queried: [],
                                             source: "", chanceError: ProxySurrogate.chanceError, ensembleSize: fit.ensembleSize, seed: trainer.configuration.seed)
        #expect(try #require(accuracy.fitted).errors(fit.architectures) == expected.errors(fit.architectures, in: NB201SearchSpace()))
    }

    /// The estimates travel in the checkpoint: a history of another set of architectures is refused
    /// in one line, and the weights alone (the rank check's supernet, without a fit) still load.
    @Test func theCheckpointsEstimatesMustMatchTheFit() throws {
        let search = try Self.search(epochs: 3)
        search.run(epochs: 2)
        let good = try #require(try search.checkpoint().accuracyState)
        var state = try #require(try JSONSerialization.jsonObject(with: good) as? [String: Any])
        let history = try #require(state["estimateHistory"] as? [[Double]])
        #expect(history.count == 1 && history[0].count == Self.architectures.count)
        state["estimateHistory"] = [Array(history[0].dropLast())]
        let bad = try JSONSerialization.data(withJSONObject: state)
        let fresh = try Self.search(epochs: 3).accuracy as! SupernetAccuracy
        #expect { try fresh.restore(bad) } throws: { "\($0)".contains("another set of architectures") && !"\($0)".contains(where: \.isNewline) }
        let weightsOnly = SupernetAccuracy(trainer: fresh.trainer, devices: 2, evaluationImages: 64)
        try weightsOnly.restore(bad)
        #expect(weightsOnly.estimateHistory.isEmpty)
    }

    /// `--exhaustive` in supernet mode: per preference, the optimum over all of NB201 of what the
    /// hypernetwork reads (the fitted surrogate), its estimate the fronts' (the supernet's test accuracy).
    @Test func theExhaustiveOptimumRanksOnTheFittedSurrogateAndReportsTheSupernetsEstimate() throws {
        let search = try Self.search(epochs: 2)
        search.run()
        let accuracy = search.accuracy as! SupernetAccuracy
        let fitted = try #require(accuracy.fitted), range = try #require(accuracy.errorRange)
        let device = search.trainingDevices[0], all = NB201SearchSpace().enumeration()!
        let errors = fitted.errors(all), ms = device.latency.predictions(all, in: NB201SearchSpace())
        let latency: ClosedRange<Double> = search.costRanges[device.name]![0]
        let rows = try #require(try search.exhaustiveFront(for: device, preferences: 8))
        #expect(rows.count == 8)
        for row in rows {
            func score(_ i: Int) -> Double {
                let e: Double = (errors[i] - range.lowerBound) / (range.upperBound - range.lowerBound)
                let l: Double = (ms[i] - latency.lowerBound) / (latency.upperBound - latency.lowerBound)
                return row.preference[0] * e + row.preference[1] * l
            }
            let chosen = all.firstIndex { NB201SearchSpace().string(of: $0) == row.architecture }!
            let best = all.indices.map(score).min()!
            #expect(abs(score(chosen) - best) < 1e-12, "\(row.architecture) is not the fitted surrogate's optimum")
            #expect(row.estimatedLoss == accuracy.errors([all[chosen]])[0], "the estimate is the supernet's on the test split")
        }
    }

    /// Checkpointed after an epoch of architecture steps on a refitted surrogate, restored, and
    /// run to the end: the same state and fronts as an uninterrupted run.
    @Test func aRestoredFittedSearchContinuesBitForBit() throws {
        let whole = try Self.search(epochs: 4, proxyMeanRanks: (1...16).map(Double.init))
        whole.run()
        let interrupted = try Self.search(epochs: 4, proxyMeanRanks: (1...16).map(Double.init))
        interrupted.run(epochs: 2)
        let saved = try JSONEncoder().encode(try interrupted.checkpoint())
        let resumed = try Self.search(epochs: 4, proxyMeanRanks: (1...16).map(Double.init))
        try resumed.restore(try JSONDecoder().decode(SearchCheckpoint.self, from: saved))
        resumed.run()
        #expect(SupernetSearchTests.state(resumed) == SupernetSearchTests.state(whole))
        #expect(resumed.log.map(\.meanLoss) == whole.log.map(\.meanLoss))
        let fronts = { (s: MODNASSearch<NB201SearchSpace>) in s.devices.flatMap { s.generator.front(for: $0, preferences: 8) } }
        #expect(fronts(resumed) == fronts(whole))
        #expect((whole.accuracy as! SupernetAccuracy).mode == .supernetProxy)
    }
}
