import Autodiff
import DataFiles
import DeviceModel
import Foundation
@testable import Predictors
import ProfileStore
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

/// Shipped data the search tests share (loaded once).
enum Shipped {
    static let index = try! NB201Index.shipped()
    static let benchmark = try! NB201Benchmark.shipped(index: index)
    static let surrogate = benchmark.surrogate(queries: 120, seed: 0, ensembleSize: 1)

    static func device(_ name: String) throws -> SearchDevice {
        let features = try DeviceFeatures.load(ShippedData.path("Profiles/\(name).json"))
        let predictor = try DevicePredictor(path: ShippedData.path("Predictors/mlp-\(name).json"))
        return try SearchDevice(features: features, predictor: predictor, latencySource: "mlp-\(name).json", isTraining: true)
    }
}

@Suite(.serialized) struct SearchLoopTests {
    @Test func surrogateGradientMatchesFiniteDifferences() {
        let x = smoothRelaxedEncoding(from: 4, step: 2e-3) { reluPattern(Shipped.surrogate.ensemble, PathEncoding.features($0)) }
        let (_, gradient) = Shipped.surrogate.evaluate(x)
        let numeric = numericGradient(x, step: 2e-3) { Shipped.surrogate.evaluate($0).error }
        let scale = numeric.map(abs).max()!
        for (a, n) in zip(gradient, numeric) { #expect(abs(Double(a) - n) < 0.02 * scale, "\(a) vs \(n)") }
    }

    @Test func surrogateRanksTheTableAndKnowsDeadCells() {
        let estimated = Shipped.surrogate.errors(Shipped.index.architectures)
        let metrics = PredictionMetrics(predicted: estimated, truth: Shipped.benchmark.testError)
        #expect(metrics.kendall > 0.55, "Kendall τ \(metrics.kendall)")
        let dead = Shipped.index.architectures.indices.filter { !PathEncoding.isConnected(Shipped.index[$0]) }
        #expect(dead.allSatisfy { estimated[$0] == 90 && Shipped.benchmark.testError[$0] == 90 })
        #expect(Shipped.surrogate.queried.count == 120 && Shipped.surrogate.queried.allSatisfy { PathEncoding.isConnected(Shipped.index[$0]) })
    }

    @Test func objectivesGradientMatchesFiniteDifferences() throws {
        let search = try MODNASSearch(devices: [try Shipped.device("pixel3")], surrogate: Shipped.surrogate, configuration: SearchConfiguration())
        let latency = search.devices[0].latency
        let x = smoothRelaxedEncoding(from: 5, step: 2e-3) {
            reluPattern(Shipped.surrogate.ensemble, PathEncoding.features($0))
                + reluPattern(latency.ensemble, ArchitectureEncoding.nb201.features($0) + (latency.device?.values ?? []))
        }
        for k in 0..<2 {
            let v = Variable(Tensor(shape: [6, 5], scalars: x), requiresGrad: true)
            search.objectives(v, device: search.devices[0]).backward(seed: Tensor(shape: [2], scalars: k == 0 ? [1, 0] : [0, 1]))
            let numeric = numericGradient(x, step: 2e-3) { Double(search.objectives(Variable(Tensor(shape: [6, 5], scalars: $0)), device: search.devices[0]).value.scalars[k]) }
            let scale = numeric.map(abs).max()!
            for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 0.03 * scale, "objective \(k): \(a) vs \(n)") }
        }
    }

    @Test func theSearchLearnsToFollowThePreference() throws {
        var c = SearchConfiguration()
        c.epochs = 3
        c.stepsPerEpoch = 60
        let search = try MODNASSearch(devices: [try Shipped.device("pixel3"), try Shipped.device("silver_4114")], surrogate: Shipped.surrogate, configuration: c)
        let log = search.run()
        #expect(log.count == 3 && log.allSatisfy { $0.meanLoss?.isFinite == true })
        let generator = FrontGenerator(hypernetwork: search.hypernetwork, surrogate: Shipped.surrogate)
        for device in search.devices {
            let front = generator.front(for: device, preferences: 24, index: Shipped.index)
            // Accuracy first (r = (1, 0)) gives a slower, more accurate architecture than latency first.
            #expect(front.first!.estimatedLoss! + 2 < front.last!.estimatedLoss!, "\(device.name): \(front.first!) vs \(front.last!)")
            #expect(front.first!.predictedLatencyMs > front.last!.predictedLatencyMs)
            #expect(Set(front.map(\.archIndex)).count >= 3)
        }
        // Better than the untrained (uniform-logit) hypernetwork's front under the search's own objectives.
        #expect(log.last!.predictedHypervolume! > 0.85)
    }

    @Test func aSurrogateSearchRestoredAfterArchitectureStepsContinuesBitForBit() throws {
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch) = (3, 10)
        func search() throws -> MODNASSearch<NB201SearchSpace> { try MODNASSearch(devices: [try Shipped.device("pixel3")], surrogate: Shipped.surrogate, configuration: c) }
        let whole = try search()
        whole.run()
        let interrupted = try search()
        interrupted.run(epochs: 2)
        let saved = try JSONEncoder().encode(try interrupted.checkpoint())
        interrupted.run(epochs: 1)
        let resumed = try search()
        try resumed.restore(try JSONDecoder().decode(SearchCheckpoint.self, from: saved))
        resumed.run()
        let weights = { (s: MODNASSearch<NB201SearchSpace>) in s.hypernetwork.parameters.map(\.value.scalars) }
        #expect(weights(resumed) == weights(whole) && resumed.log.map(\.meanLoss) == whole.log.map(\.meanLoss))
        #expect(weights(whole) != weights(try search()))
    }

    @Test func aSavedHypernetworkGivesTheSameFronts() throws {
        var c = SearchConfiguration()
        c.epochs = 1
        c.stepsPerEpoch = 20
        let search = try MODNASSearch(devices: [try Shipped.device("pixel3")], surrogate: Shipped.surrogate, configuration: c)
        let log = search.run()
        let meta = try PredictorFile.load(ShippedData.path("Predictors/meta.json"))
        let path = Scratch.path("modnas-hn", suffix: ".json")
        try HypernetworkFile(search: search, latencyPredictor: meta, log: log, rows: []).write(to: path)
        let loaded = try HypernetworkFile.load(path)
        let raspi = try DeviceFeatures.load(ShippedData.path("Profiles/raspi4.json"))
        let before = search.generator.front(for: try loaded.device(raspi), preferences: 24, index: Shipped.index)
        let after = try loaded.generator().front(for: try loaded.device(raspi), preferences: 24, index: Shipped.index)
        #expect(before == after)
        #expect(loaded.trainingDevices == ["pixel3"] && loaded.log == log)
        // Files that parse but cannot be this search's are refused before any weight is used.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var wide = json, short = json, modeless = json, emptyEnsemble = json
        var layers = json["layers"] as! [[String: Any]]
        layers[0]["outputs"] = 1_000_000_000
        wide["layers"] = layers
        layers = json["layers"] as! [[String: Any]]
        layers[2]["bias"] = [0.0]
        short["layers"] = layers
        modeless["surrogate"] = nil
        var surrogate = json["surrogate"] as! [String: Any]
        surrogate["ensemble"] = [Any]()
        emptyEnsemble["surrogate"] = surrogate
        for (k, (bad, fragment)) in [(wide, "at most 4096"), (short, "biases"), (modeless, "without its surrogate"), (emptyEnsemble, "ensemble is empty")].enumerated() {
            let badPath = path + ".bad\(k)"
            try JSONSerialization.data(withJSONObject: bad).write(to: URL(fileURLWithPath: badPath))
            defer { try? FileManager.default.removeItem(atPath: badPath) }
            #expect { try HypernetworkFile.load(badPath) } throws: { "\($0)".contains(fragment) && !"\($0)".contains(where: \.isNewline) }
        }
    }

    @Test func frontsFileRoundTripsAndRejectsBadRows() throws {
        let dir = try Scratch.directory("modnas-fronts")
        let arch = Shipped.index[1462]
        let rows = [FrontRow(device: "d", preferenceIndex: 0, preference: [1, 0], archIndex: 1462, architecture: arch, predictedLatencyMs: 3.5, estimatedLoss: 6.75)]
        let path = dir + "/f.csv"
        try Fronts.write(rows, to: path)
        #expect(try Fronts.read(path, index: Shipped.index) == rows)
        let good = try String(contentsOfFile: path, encoding: .utf8)
        // A file of before the loss convention holds the estimated accuracy: read as 100 − it.
        let legacy = good.replacingOccurrences(of: ",estimated_test_error_percent", with: ",estimated_accuracy").replacingOccurrences(of: "6.7500", with: "93.2500")
        try legacy.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Fronts.read(path, index: Shipped.index) == rows)
        for (bad, message) in [(good.replacingOccurrences(of: ",1462,", with: ",1463,"), "not"),
                               (good.replacingOccurrences(of: "3.500000", with: "fast"), "not a number"),
                               (good.replacingOccurrences(of: "nor_conv", with: "conv"), "line 2"),
                               (good.replacingOccurrences(of: "d,0,", with: "d,1e20,"), "preference_index"),
                               (good.replacingOccurrences(of: "d,0,", with: "\"a/b\",0,"), "not a name"),
                               (good.replacingOccurrences(of: "6.7500", with: "1e300"), "outside")] {
            try bad.write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try Fronts.read(path, index: Shipped.index) } throws: { "\($0)".contains(message) && "\($0)".contains("line 2") }
        }
    }
}
