import Autodiff
import DataFiles
import DeviceModel
import Foundation
import Testing
import TestSupport
@testable import Predictors
import ProfileStore
import SearchSpaces
import NB201Space
import OFASpace

/// A small synthetic device: per-edge additive op costs plus one interaction, on `count` sampled
/// architectures.
func syntheticDevice(_ name: String, scale: Double, count: Int, seed: UInt64) -> DeviceSamples {
    let costs: [Double] = [0.05, 0.1, 0.6, 2.0, 0.4].map { $0 * scale }
    func latency(_ a: NB201Architecture) -> Double {
        let base = a.operations.enumerated().reduce(0.5 * scale) { $0 + costs[$1.1.rawValue] * (1 + 0.15 * Double($1.0)) }
        return base * (a.operations[5] == .conv3x3 && a.operations[3] == .conv3x3 ? 1.2 : 1)
    }
    let archs = NB201Sampler.distinct(count: count, seed: seed)
    let refs = (0..<10).map { NB201Architecture(code: $0 * 1500 + 7) }
    let features = DeviceFeatures(device: name, source: .benchmark, referenceArchIndices: Array(0..<10),
                                  values: refs.map(latency), host: nil)
    return DeviceSamples(device: name, features: features, space: NB201SearchSpace(), architectures: archs, values: archs.map(latency))
}

/// The objective's value and gradient at `x` against central differences on `entries`.
func expectGradientMatchesFiniteDifferences(_ objective: DeviceObjective, at x: [Float], entries: [Int]) {
    let (value, gradient) = objective.evaluate(x)
    #expect(abs(value - objective.predictions([x])[0]) < 1e-4 * value)
    // A small step: the MLP is piecewise linear, and a large one straddles ReLU kinks.
    let h: Float = 1e-3
    for k in entries {
        var plus = x, minus = x
        plus[k] += h
        minus[k] -= h
        let numeric = (objective.predictions([plus])[0] - objective.predictions([minus])[0]) / Double(2 * h)
        #expect(abs(numeric - Double(gradient[k])) <= 2e-2 * (abs(numeric) + 0.05 * value), "∂/∂x[\(k)]: \(gradient[k]) vs \(numeric)")
    }
}

func quickConfiguration() -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.hidden = [32]
    c.maxEpochs = 150
    c.patience = 20
    c.weightDecay = 1e-4   // the data here are noiseless
    return c
}

@Suite struct MetricTests {
    @Test func rankCorrelationsMatchHandComputedValues() {
        #expect(PredictionMetrics.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(PredictionMetrics.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        #expect(abs(PredictionMetrics.kendallTau([1, 2, 3, 4], [1, 3, 2, 4]) - 2.0 / 3.0) < 1e-12)
        #expect(PredictionMetrics.ranks([5, 1, 5, 3]) == [3.5, 1, 3.5, 2])
        let m = PredictionMetrics(predicted: [1.05, 2.5, 3], truth: [1, 2, 3])
        #expect(abs(m.mape - 100 * (0.05 + 0.25 + 0) / 3) < 1e-9)
        #expect(abs(m.within10 - 200.0 / 3) < 1e-9)
        #expect(abs(m.rmse - ((0.0025 + 0.25) / 3).squareRoot()) < 1e-9)
    }
}

@Suite struct EncodingTests {
    @Test func structuralFeaturesAreLinearInTheOneHot() throws {
        let arch = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
        let f = ArchitectureEncoding.nb201.features(arch.oneHotEncoding)
        #expect(Array(f[0..<30]) == arch.oneHotEncoding)
        #expect(Array(f[30..<35]) == [3, 1, 1, 1, 0])     // none, skip, 1×1, 3×3, pool
        #expect(Array(f[35..<38]) == [1, 1, 1])           // live inputs of nodes 1, 2, 3
        #expect(f[38] == 10)                              // 9 + 1
        // Mᵀ is the adjoint of M: ⟨M x, g⟩ = ⟨x, Mᵀ g⟩.
        var rng = SeededGenerator(seed: 1)
        let x = (0..<30).map { _ in rng.nextUniform() }, g = (0..<39).map { _ in rng.nextUniform() }
        let lhs = zip(ArchitectureEncoding.nb201.features(x), g).reduce(0) { $0 + $1.0 * $1.1 }
        let rhs = zip(x, ArchitectureEncoding.nb201.pullback(g)).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(lhs - rhs) < 1e-3)
    }
}

@Suite struct PredictorTests {
    @Test func mlpLearnsASyntheticDeviceAndRanksHeldOutArchitectures() throws {
        let d = syntheticDevice("synthetic", scale: 1, count: 600, seed: 1)
        let (train, test) = d.split(count: 400, seed: 0)
        let file = try PredictorTraining.mlp(train, configuration: quickConfiguration(), referenceArchIndices: Array(0..<10))
        let predicted = try DevicePredictor(file: file).objective(device: nil).predictions(test.encodings)
        let m = PredictionMetrics(predicted: predicted, truth: test.values)
        #expect(m.spearman > 0.95, "ρ \(m.spearman)")
    }

    @Test func latencyGradientMatchesFiniteDifferences() throws {
        let devices = [syntheticDevice("a", scale: 1, count: 300, seed: 2), syntheticDevice("b", scale: 3, count: 300, seed: 3)]
        let meta = try PredictorTraining.meta(devices, configuration: quickConfiguration(), ensembleSize: 2,
                                              referenceArchIndices: Array(0..<10))
        let objective = try DevicePredictor(file: meta).objective(device: devices[1].features)
        // A relaxed encoding: softmax weights per edge.
        var rng = SeededGenerator(seed: 4)
        var x = [Float]()
        for _ in 0..<6 {
            let w = (0..<5).map { _ in Foundation.exp(2 * rng.nextUniform()) }
            let s = w.reduce(0, +)
            x += w.map { $0 / s }
        }
        expectGradientMatchesFiniteDifferences(objective, at: x, entries: Array(0..<30))
    }

    @Test func predictorFilesRoundTripAndOtherVersionsAreRefused() throws {
        let d = syntheticDevice("synthetic", scale: 1, count: 100, seed: 5)
        let file = try PredictorTraining.mlp(d, configuration: quickConfiguration(), referenceArchIndices: Array(0..<10))
        let dir = Scratch.path("modnas-pred")
        try file.write(to: dir + "/p.json")
        let loaded = try PredictorFile.load(dir + "/p.json")
        #expect(loaded.ensemble == file.ensemble && loaded.kind == .mlp && loaded.device == "synthetic")
        var text = try String(contentsOfFile: dir + "/p.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "modnas.predictor.v1", with: "modnas.predictor.v0")
        try text.write(toFile: dir + "/old.json", atomically: true, encoding: .utf8)
        #expect(throws: PredictorError.wrongFormat(path: dir + "/old.json", found: "modnas.predictor.v0")) {
            try PredictorFile.load(dir + "/old.json")
        }
        try "{}".write(toFile: dir + "/empty.json", atomically: true, encoding: .utf8)
        #expect(throws: PredictorError.self) { try PredictorFile.load(dir + "/empty.json") }
    }

    @Test func badDeviceFeaturesAndTooFewSamplesAreRefused() throws {
        let good = syntheticDevice("a", scale: 1, count: 60, seed: 6)
        var short = good.features!
        short.values.removeLast()
        #expect(throws: DeviceModelError.wrongFeatureLength(device: "a", expected: 10, found: 9)) {
            try DeviceInput(short, space: "nb201", length: 10)
        }
        var nan = good.features!
        nan.values[3] = .nan
        #expect(throws: DeviceModelError.self) { try DeviceInput(nan, space: "nb201", length: 10) }
        var zero = good.features!
        zero.values[0] = 0
        #expect(throws: DeviceModelError.self) { try DeviceInput(zero, space: "nb201", length: 10) }
        var other = good.features!
        other.space = "ofa"
        #expect(throws: DeviceModelError.wrongSpace(device: "a", expected: "nb201", found: "ofa")) {
            try DeviceInput(other, space: "nb201", length: 10)
        }
        var tiny = good.subset(0..<3)
        tiny.device = "t"
        #expect(throws: PredictorError.tooFewSamples(device: "t", found: 3, needed: PredictorTraining.minimumSamples)) {
            try PredictorTraining.mlp(tiny, configuration: quickConfiguration(), referenceArchIndices: [])
        }
        var negative = good
        negative.values[0] = -1
        #expect(throws: PredictorError.self) {
            try PredictorTraining.mlp(negative, configuration: quickConfiguration(), referenceArchIndices: [])
        }
        // An MLP predictor refuses another device.
        let file = try PredictorTraining.mlp(good, configuration: quickConfiguration(), referenceArchIndices: [])
        var elsewhere = good.features!
        elsewhere.device = "b"
        #expect(throws: PredictorError.deviceMismatch(predictor: "a", device: "b")) {
            try DevicePredictor(file: file).objective(device: elsewhere)
        }
    }

    @Test func adaptationImprovesAnUnseenDevice() throws {
        let train = [syntheticDevice("a", scale: 1, count: 300, seed: 7), syntheticDevice("b", scale: 2, count: 300, seed: 8)]
        let meta = try PredictorTraining.meta(train, configuration: quickConfiguration(), referenceArchIndices: Array(0..<10))
        // A device whose op costs differ in kind (pooling expensive), seen through 40 samples and
        // judged on 200 others.
        var unseen = syntheticDevice("c", scale: 1.5, count: 240, seed: 9)
        unseen.values = try zip(unseen.architectures, unseen.values).map { a, ms in
            ms + 1.5 * Double(try NB201Architecture(parsing: a).operations.filter { $0 == .averagePool3x3 }.count)
        }
        let seen = unseen.subset(0..<40), heldOut = unseen.subset(40..<240)
        #expect(Set(heldOut.architectures).isDisjoint(with: seen.architectures))
        func metrics(_ file: PredictorFile) throws -> PredictionMetrics {
            PredictionMetrics(predicted: try DevicePredictor(file: file).objective(device: unseen.features).predictions(heldOut.encodings),
                              truth: heldOut.values)
        }
        let adapted = try PredictorTraining.adapt(meta, to: seen, epochs: 60)
        let (before, after) = (try metrics(meta), try metrics(adapted))
        #expect(after.mape < before.mape, "MAPE on held-out architectures \(before.mape) → \(after.mape)")
        #expect(adapted.kind == .meta && adapted.device == "c")
    }
}

@Suite struct PredictorFileValidationTests {
    /// The shipped meta predictor as JSON, changed by `edit`, written to a temporary file.
    func edited(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: try ShippedData.path("Predictors/\(name)")))
        var json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        edit(&json)
        let path = Scratch.path("modnas-bad", suffix: ".json")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func member(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var ensemble = json["ensemble"] as! [[String: Any]]
        edit(&ensemble[0])
        json["ensemble"] = ensemble
    }

    @Test func inconsistentFilesAreRefusedBeforeUse() throws {
        let cases: [(String, String, (inout [String: Any]) -> Void)] = [
            ("meta.json", "stores", { j in self.member(&j) { r in
                var layers = r["layers"] as! [[String: Any]]
                layers[0]["weight"] = (layers[0]["weight"] as! [Double]).dropLast().map { $0 }
                r["layers"] = layers } }),
            ("meta.json", "names no device", { $0["kind"] = "mlp" }),
            ("meta.json", "the model takes 39", { $0["kind"] = "mlp"; $0["device"] = "pixel3" }),
            ("mlp-pixel3.json", "lists no reference", { $0["kind"] = "meta"; $0["reference_arch_indices"] = [Int](); $0["referenceArchIndices"] = [Int]() }),
            ("meta.json", "scale is not positive", { j in self.member(&j) { r in r["inputStd"] = [0.0] + (r["inputStd"] as! [Double]).dropFirst() } }),
            ("meta.json", "ensemble is empty", { $0["ensemble"] = [Any]() }),
            ("meta.json", "damaged predictor", { j in self.member(&j) { r in r["targetStd"] = 1e300 } }),
            ("meta.json", "kind", { $0["kind"] = "oracle" }),
            ("meta.json", "expected 'ofa-onehot160+structure18' for space ofa", { $0["space"] = "ofa" }),
            ("meta.json", "expected 'gpt-onehot80+structure5' for space gpt", { $0["space"] = "gpt" }),
            ("meta.json", "space 'mobilenet'", { $0["space"] = "mobilenet" }),
        ]
        for (file, fragment, edit) in cases {
            let path = try edited(file, edit)
            #expect { try PredictorFile.load(path) } throws: { error in
                "\(error)".contains(fragment) && !"\(error)".contains(where: \.isNewline)
            }
        }
    }

    @Test func featuresMustMatchThePredictorsReferencesInOrder() throws {
        let meta = try DevicePredictor(path: try ShippedData.path("Predictors/meta.json"))
        var features = try DeviceFeatures.load(try ShippedData.path("Profiles/raspi4.json"))
        _ = try meta.objective(device: features)
        features.referenceArchIndices.reverse()
        #expect(throws: PredictorError.self) { try meta.objective(device: features) }
        features.referenceArchIndices.reverse()
        features.values[0] = 1e300
        #expect { try meta.objective(device: features) } throws: { "\($0)".contains("finite milliseconds") }
    }
}

/// A synthetic OFA device: per layer a cost of its stage times (expand ratio + k²/9), scaled by
/// (r/224)², plus a fixed cost per layer (launch overhead); skipped layers cost nothing.
func syntheticOFADevice(_ name: String, count: Int, seed: UInt64) -> DeviceSamples {
    let space = OFASearchSpace()
    func latency(_ a: OFAArchitecture) -> Double {
        let scale = pow(Double(a.resolution) / 224, 2)
        var total = 0.4
        for (s, stage) in a.stages.enumerated() {
            for layer in stage {
                let work: Double = Double(s + 1) * (Double(layer.expand) + Double(layer.kernel * layer.kernel) / 9) / 20
                total += 0.05 + scale * work
            }
        }
        return total
    }
    let archs = space.sample(count: count, seed: seed)
    return DeviceSamples(device: name, features: nil, space: space, architectures: archs, values: archs.map(latency))
}

@Suite struct OFALatencyPredictorTests {
    let space = OFASearchSpace()
    let encoding = ArchitectureEncoding.ofa

    @Test func structuralFeaturesCountOnlyTheLayersAStageKeeps() throws {
        let a = try space.parse("r160_k3e4-k5e6_k7e3-k3e3-k3e6_k5e4-k5e4-k5e4-k5e4_k3e3-k3e3_k7e6-k7e6-k7e6")
        let f = encoding.features(of: a, in: space)
        #expect(f.count == encoding.featureCount && Array(f[0..<160]) == space.oneHotEncoding(of: a))
        #expect(Array(f[160..<165]) == [2, 3, 4, 2, 3])                       // layers per stage
        #expect(Array(f[165..<170]) == [10, 12, 16, 6, 18])                   // Σ expand ratio
        let kernelSums: [Float] = [34, 67, 100, 18, 147]
        #expect(zip(f[170..<175], kernelSums).allSatisfy { abs($0 - $1 / 9) < 1e-5 })   // Σ k²/9
        #expect(abs(f[175] - 160.0 / 224) < 1e-6 && abs(f[176] - pow(160.0 / 224, 2)) < 1e-6 && f[177] == 14)
        // Mᵀ is the adjoint of M.
        var rng = SeededGenerator(seed: 1)
        let x = (0..<encoding.inputCount).map { _ in rng.nextUniform() }, g = (0..<encoding.featureCount).map { _ in rng.nextUniform() }
        let lhs = zip(encoding.features(x), g).reduce(0) { $0 + $1.0 * $1.1 }
        let rhs = zip(x, encoding.pullback(g)).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(lhs - rhs) < 1e-3 * abs(lhs))
    }

    @Test func anMLPRanksHeldOutArchitecturesAndIsDifferentiableInTheRelaxedEncoding() throws {
        let (train, test) = syntheticOFADevice("ofa_synthetic", count: 600, seed: 2).split(count: 400, seed: 0)
        var c = quickConfiguration()
        (c.weightDecay, c.maxEpochs, c.patience) = (5e-2, 300, 40)   // 400 rows for 178 inputs: strong decay keeps the MLP near the additive part
        let file = try PredictorTraining.mlp(train, configuration: c, referenceArchIndices: [])
        #expect(file.space == "ofa" && file.encoding == encoding.name)
        let objective = try DevicePredictor(file: file).objective(device: nil)
        let m = PredictionMetrics(predicted: objective.predictions(test.encodings), truth: test.values)
        #expect(m.spearman > 0.95, "ρ \(m.spearman)")
        // A relaxed point: skipped-slot entries weighted by the depth probabilities.
        var rng = SeededGenerator(seed: 3)
        let x = withoutTape { space.relaxedEncoding(Variable(Tensor(shape: [space.choiceCount], scalars: space.randomRelaxation(using: &rng)))).value.scalars }
        expectGradientMatchesFiniteDifferences(objective, at: x, entries: Array(stride(from: 0, to: x.count, by: 7)))
    }

    @Test func aPredictorOfOneSpaceRefusesTheOtherSpacesFeaturesInOneLine() throws {
        let ofa = try PredictorTraining.mlp(syntheticOFADevice("ofa_synthetic", count: 60, seed: 4), configuration: quickConfiguration(),
                                            referenceArchIndices: [])
        let nb201Features = syntheticDevice("ofa_synthetic", scale: 1, count: 20, seed: 5).features!
        #expect(throws: DeviceModelError.wrongSpace(device: "ofa_synthetic", expected: "ofa", found: "nb201")) {
            try DevicePredictor(file: ofa).objective(device: nb201Features)
        }
        #expect { try ofa.require(space: .nb201, path: "p.json") } throws: { error in
            "\(error)".contains("--space ofa") && !"\(error)".contains(where: \.isNewline)
        }
        let nb201 = try PredictorTraining.mlp(syntheticDevice("a", scale: 1, count: 60, seed: 6), configuration: quickConfiguration(),
                                              referenceArchIndices: [])
        var ofaFeatures = nb201Features
        (ofaFeatures.device, ofaFeatures.space) = ("a", "ofa")
        #expect(throws: DeviceModelError.self) { try DevicePredictor(file: nb201).objective(device: ofaFeatures) }
        // Samples of two spaces do not train one meta predictor.
        var mixed = syntheticOFADevice("o", count: 60, seed: 7)
        mixed.features = DeviceFeatures(device: "o", space: "ofa", source: .benchmark, referenceArchIndices: Array(0..<10),
                                        values: Array(repeating: 5, count: 10), host: nil)
        #expect(throws: PredictorError.self) {
            try PredictorTraining.meta([syntheticDevice("a", scale: 1, count: 60, seed: 8), mixed], configuration: quickConfiguration(),
                                       referenceArchIndices: Array(0..<10))
        }
        #expect(PredictorFile.isNamed("mlp-v100_1.ofa.json", for: .ofa) && !PredictorFile.isNamed("mlp-v100_1.ofa.json", for: .nb201))
        #expect(PredictorFile.isNamed("meta.json", for: .nb201) && !PredictorFile.isNamed("meta.json", for: .ofa))
    }
}

@Suite struct OFAAccuracyPredictorTests {
    /// All 5,000 rows of the shared table against the outputs the authors' predictor gives.
    @Test func reproducesTheShippedOutputsOnEveryTableRow() throws {
        let predictor = try OFAAccuracyPredictor.shipped()
        let archs = try OFASearchSpace.shippedArchitectures()
        let table = try CSVTable(contentsOf: ShippedData.path("Devices/ofa/accuracy_predictor_outputs.csv"))
        let expected = try table.numericColumn("predicted_top1")
        #expect(try table.numericColumn("arch_index") == (0..<5_000).map(Double.init))
        let got = predictor.topOne(archs)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(got.count == 5_000 && worst <= 1e-5, "largest difference \(worst)")
    }

    /// The gradient in the relaxed encoding (depth probabilities included) matches finite differences.
    @Test func isDifferentiableInTheRelaxedEncoding() throws {
        let predictor = try OFAAccuracyPredictor.shipped()
        let space = OFASearchSpace()
        var rng = SeededGenerator(seed: 3)
        let p = space.randomRelaxation(using: &rng)
        func accuracy(_ v: [Float], tape: Bool) -> Variable {
            let x = Variable(Tensor(shape: [v.count], scalars: v), requiresGrad: tape)
            return predictor.topOne(reshape(space.relaxedEncoding(x), to: [1, v.count]))
        }
        let x = Variable(Tensor(shape: [p.count], scalars: p), requiresGrad: true)
        predictor.topOne(reshape(space.relaxedEncoding(x), to: [1, p.count])).backward()
        let gradient = try #require(x.grad)
        let scale = gradient.scalars.map(abs).max()!
        for i in stride(from: 0, to: p.count, by: 7) {
            var plus = p, minus = p
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let numeric = (Double(accuracy(plus, tape: false).value.scalars[0]) - Double(accuracy(minus, tape: false).value.scalars[0])) / 2e-3
            #expect(abs(numeric - Double(gradient.scalars[i])) < 0.05 * Double(scale) + 1e-4, "entry \(i): \(gradient.scalars[i]) vs \(numeric)")
        }
    }

    @Test func aDamagedFileIsOneLine() throws {
        let dir = try Scratch.directory("ofa-acc")
        try Data(#"{"format": "ofa-accuracy-predictor", "layers": [{"weight": [[1]], "bias": [0]}]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/p.json"))
        do { _ = try OFAAccuracyPredictor(path: dir + "/p.json"); Issue.record("accepted") } catch {
            #expect("\(error)".contains("1 layers") && !"\(error)".contains("\n"), "\(error)")
        }
    }
}
