import Autodiff
import DataFiles
import DeviceModel
import Foundation
@testable import Predictors
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

/// Energy as an objective of the search: a device's energy predictor beside its latency
/// predictor, fronts that carry the predicted joules, and refusals for devices without energy.
@Suite(.serialized) struct EnergySearchTests {
    /// A synthetic energy (J per inference) that ranks cells unlike latency: 1×1 convolutions and
    /// pooling cost energy, 3×3 convolutions little.
    static func joules(_ a: NB201Architecture, scale: Double) -> Double {
        let ops = a.string
        func count(_ op: String) -> Double { Double(ops.components(separatedBy: op).count - 1) }
        return scale * (1 + 3 * count("nor_conv_1x1") + 2 * count("avg_pool_3x3") + 0.2 * count("nor_conv_3x3"))
    }

    /// A shipped NB201 device with a synthetic energy vector and an energy MLP trained on it.
    static func device(_ name: String, scale: Double) throws -> SearchDevice {
        var features = try DeviceFeatures.load(ShippedData.path("Profiles/\(name).json"))
        let references = features.referenceArchIndices.map { Shipped.index[$0] }
        features.energyValues = references.map { joules($0, scale: scale) }
        let archs = NB201Sampler.distinct(count: 400, seed: 9)
        let samples = DeviceSamples(device: name, features: features, space: NB201SearchSpace(), architectures: archs, metric: .energy,
                                    values: archs.map { joules($0, scale: scale) })
        var c = TrainingConfiguration()
        (c.hidden, c.maxEpochs, c.patience) = ([16], 150, 20)
        let energy = try PredictorTraining.mlp(samples, configuration: c, referenceArchIndices: features.referenceArchIndices)
        return try SearchDevice(features: features, predictor: DevicePredictor(path: ShippedData.path("Predictors/mlp-\(name).json")),
                                latencySource: "mlp-\(name).json", isTraining: true,
                                energyPredictor: (DevicePredictor(file: energy), "energy-mlp-\(name).json"))
    }

    static let devices = [try! device("pixel3", scale: 0.002), try! device("silver_4114", scale: 0.05)]
    static let objectives = ObjectiveList(costs: [.latency, .energy])

    @Test func theEnergyObjectiveIsDifferentiableAndFollowsItsPreference() throws {
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch) = (3, 60)
        let search = try MODNASSearch(space: NB201SearchSpace(), devices: Self.devices, accuracy: try SurrogateAccuracy(Shipped.surrogate),
                                      configuration: c, objectives: Self.objectives)
        // The energy component's gradient against finite differences (the third objective).
        let device = search.devices[0]
        let x = relaxedEncoding(seed: 11)
        let v = Variable(Tensor(shape: [6, 5], scalars: x), requiresGrad: true)
        search.objectives(v, device: device).backward(seed: Tensor(shape: [3], scalars: [0, 0, 1]))
        let numeric = numericGradient(x, step: 2e-3) { Double(search.objectives(Variable(Tensor(shape: [6, 5], scalars: $0)), device: device).value.scalars[2]) }
        let scale = numeric.map(abs).max()!
        #expect(scale > 0)
        for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 0.05 * scale, "\(a) vs \(n)") }

        search.run()
        let rows = search.devices.flatMap { search.generator.front(for: $0, preferences: 24, tableIndex: { Shipped.index.index(of: $0) }) }
        #expect(rows.count == 2 * 28 && rows.allSatisfy { ($0.extraCosts[.energy] ?? 0) > 0 })
        for name in ["pixel3", "silver_4114"] {
            let front = rows.filter { $0.device == name }
            // The vertex that weighs energy only against the one that weighs accuracy only.
            let energyFirst = try #require(front.first { $0.preference == [0, 0, 1] }), accuracyFirst = try #require(front.first { $0.preference == [1, 0, 0] })
            #expect(energyFirst.extraCosts[.energy]! < accuracyFirst.extraCosts[.energy]!, "\(name): \(energyFirst) vs \(accuracyFirst)")
            // Predictions are the device's energy predictor's, in joules.
            let predicted = try search.devices.first { $0.name == name }!.objective(.energy).predictions([try NB201Architecture(parsing: energyFirst.architecture)], in: NB201SearchSpace())[0]
            #expect(abs(predicted - energyFirst.extraCosts[.energy]!) < 1e-5 * predicted)
        }
        // The fronts file carries predicted_energy_j and reads back.
        let path = Scratch.path("modnas-energy-fronts", suffix: ".csv")
        try Fronts.write(rows, space: NB201SearchSpace(), objectives: Self.objectives, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("device,preference_index,r_accuracy,r_latency,r_energy,arch_index,arch_string,predicted_latency_ms,predicted_energy_j,estimated_test_error_percent"))
        let back = try Fronts.read(path, space: NB201SearchSpace())
        #expect(back.count == rows.count && zip(back, rows).allSatisfy { abs($0.extraCosts[.energy]! - $1.extraCosts[.energy]!) <= 1e-5 * $1.extraCosts[.energy]! })
        // The NB201 table has no energy: its evaluation says so for every device rather than scoring latency alone.
        let (results, missing) = Shipped.benchmark.evaluate(rows, objectives: Self.objectives, measured: [:], baselineBudgets: [], seed: 0)
        #expect(results.isEmpty && missing.count == 2 && missing.values.allSatisfy { $0.contains("holds no energy") })

        // A hypernetwork file keeps the energy meta predictor; without one it is refused.
        let meta = try PredictorFile.load(ShippedData.path("Predictors/meta.json"))
        let hn = Scratch.path("modnas-energy-hn", suffix: ".json")
        try HypernetworkFile(search: search, latencyPredictor: meta, energyPredictor: nil, log: search.log, rows: rows).write(to: hn)
        #expect { try HypernetworkFile.load(hn) } throws: { "\($0)".contains("energy objective without an energy meta predictor") }
    }

    /// A device without energy (a host without RAPL) joins on its other objectives: its gradient
    /// steps and its fronts use preference vectors with zero energy weight, its fronts leave the
    /// energy cell empty. A search in which no training device has energy is refused by name and reason.
    @Test func aDeviceWithoutEnergyJoinsOnItsOtherObjectives() throws {
        var features = try DeviceFeatures.load(ShippedData.path("Profiles/pixel3.json"))
        features.energyAbsentReason = "its benchmark table holds no energy"
        let plain = try SearchDevice(features: features, predictor: DevicePredictor(path: ShippedData.path("Predictors/mlp-pixel3.json")),
                                     latencySource: "mlp-pixel3.json", isTraining: true)
        #expect(plain.absentCosts(Self.objectives) == [.energy] && Self.devices[1].absentCosts(Self.objectives).isEmpty)
        #expect { try MODNASSearch(space: NB201SearchSpace(), devices: [plain], accuracy: try SurrogateAccuracy(Shipped.surrogate),
                                   configuration: SearchConfiguration(), objectives: Self.objectives) } throws: { error in
            "\(error)" == "device 'pixel3' has no energy in space nb201 (its benchmark table holds no energy); leave energy out of its objectives, or profile it on a host with RAPL"
        }
        var c = SearchConfiguration()
        (c.epochs, c.stepsPerEpoch) = (1, 5)
        let search = try MODNASSearch(space: NB201SearchSpace(), devices: [plain, Self.devices[1]], accuracy: try SurrogateAccuracy(Shipped.surrogate),
                                      configuration: c, objectives: Self.objectives)
        // Its energy objective is constant (no gradient), so its steps follow error and latency only.
        let v = Variable(Tensor(shape: [6, 5], scalars: relaxedEncoding(seed: 4)), requiresGrad: true)
        search.objectives(v, device: plain).backward(seed: Tensor(shape: [3], scalars: [0, 0, 1]))
        #expect(v.grad!.scalars.allSatisfy { $0 == 0 } && search.objectives(v, device: plain).value.scalars[2] == 0)
        search.run()
        let front = search.generator.front(for: plain, preferences: 24, tableIndex: { Shipped.index.index(of: $0) })
        #expect(front.count == 24 && front.allSatisfy { $0.preference[2] == 0 && $0.extraCosts[.energy] == nil })
        #expect(Set(front.map { $0.preference[0] }).count == 24)   // the 24 angles of two objectives
        // The fronts file leaves its energy cell empty and reads it back as absent.
        let path = Scratch.path("modnas-energy-slice", suffix: ".csv")
        try Fronts.write(front, space: NB201SearchSpace(), objectives: Self.objectives, to: path)
        #expect(try Fronts.read(path, space: NB201SearchSpace()).allSatisfy { $0.extraCosts[.energy] == nil })
        // Latency alone still searches with it.
        _ = try MODNASSearch(space: NB201SearchSpace(), devices: [plain], accuracy: try SurrogateAccuracy(Shipped.surrogate), configuration: SearchConfiguration())
    }
}
