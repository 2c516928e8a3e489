import Autodiff
import DataFiles
import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Testing
import TestSupport
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import Workflow
import NB201Space

@Suite struct MinNormSolverTests {
    @Test func orthogonalUnitVectorsMeetHalfway() {
        let s = MinNormSolver.solve([[1, 0], [0, 1]])
        #expect(abs(s.weights[0] - 0.5) < 1e-6 && abs(s.squaredNorm - 0.5) < 1e-9)
    }

    @Test func opposingVectorsCancel() {
        let s = MinNormSolver.solve([[2, 0], [-1, 0]])
        // c·2 − (1−c) = 0 → c = 1/3.
        #expect(abs(s.weights[0] - 1.0 / 3) < 1e-6 && s.squaredNorm < 1e-12)
    }

    @Test func aDominatedVertexGetsAllTheWeight() {
        // (0.2, 0.2) is the min-norm point of the hull of these three.
        let s = MinNormSolver.solve([[1, 1], [0.2, 0.2], [1, 3]])
        #expect(abs(s.weights[1] - 1) < 1e-6 && abs(s.squaredNorm - 0.08) < 1e-9)
    }

    @Test func threeVectorsAroundTheOriginReachZero() {
        let s = MinNormSolver.solve(MinNormSolver.normalized([[1, 0], [0, 1], [-1, -1]]))
        // With r = 1/√2: a(1,0) + b(0,1) + c(−r,−r) = 0 with a + b + c = 1: a = b = 1/(2 + √2), c = √2/(2 + √2).
        let a = 1 / (2 + 2.0.squareRoot())
        #expect(s.squaredNorm < 1e-6, "norm² \(s.squaredNorm)")
        #expect(abs(s.weights[0] - a) < 1e-2 && abs(s.weights[2] - a * 2.0.squareRoot()) < 1e-2)
        #expect(s.iterations <= 250 && abs(s.weights.reduce(0, +) - 1) < 1e-9)
    }

    @Test func iterationsAreBounded() {
        var rng = SeededGenerator(seed: 3)
        let vectors = (0..<13).map { _ in (0..<50).map { _ in Double(rng.nextNormal()) } }
        let s = MinNormSolver.solve(MinNormSolver.normalized(vectors), tolerance: 0, maxIterations: 250)
        #expect(s.iterations == 250 && s.weights.allSatisfy { $0 >= 0 })
    }
}

@Suite struct ReinMaxTests {
    @Test func gradientFollowsTheFormula() {
        var rng = SeededGenerator(seed: 1)
        let logits = Variable(Tensor.uniform(shape: [6, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        var sampler = SeededGenerator(seed: 2)
        let d = reinMaxSample(logits, using: &sampler)
        for r in 0..<6 { #expect(d.value.scalars[(r * 5)..<(r * 5 + 5)].reduce(0, +) == 1) }
        let g = Tensor.uniform(shape: [6, 5], low: -1, high: 1, using: &rng)
        d.backward(seed: g)
        // The formula written out per entry in Double.
        let pi = softmax(logits.value)
        for r in 0..<6 {
            let idx = Array((r * 5)..<(r * 5 + 5))
            let pi1 = idx.map { 0.5 * (Double(pi.scalars[$0]) + Double(d.value.scalars[$0])) }
            let dot1 = zip(pi1, idx).reduce(0.0) { $0 + $1.0 * Double(g.scalars[$1.1]) }
            let dot = idx.reduce(0.0) { $0 + Double(pi.scalars[$1]) * Double(g.scalars[$1]) }
            for (o, i) in idx.enumerated() {
                let want = 2 * pi1[o] * (Double(g.scalars[i]) - dot1) - 0.5 * Double(pi.scalars[i]) * (Double(g.scalars[i]) - dot)
                #expect(abs(Double(logits.grad!.scalars[i]) - want) < 1e-5)
            }
        }
        // Unsampled operations still receive gradient.
        let unsampled = (0..<30).filter { d.value.scalars[$0] == 0 }
        #expect(unsampled.contains { logits.grad!.scalars[$0] != 0 })
    }

    @Test func samplesFollowTheSoftmax() {
        let logits = Variable(Tensor(shape: [1, 5], scalars: [0, 1, 2, 0, -1]))
        let p = softmax(logits.value).scalars
        var rng = SeededGenerator(seed: 5)
        var counts = [Double](repeating: 0, count: 5)
        for _ in 0..<20_000 { counts[reinMaxSample(logits, using: &rng).value.scalars.firstIndex(of: 1)!] += 1 }
        for o in 0..<5 { #expect(abs(counts[o] / 20_000 - Double(p[o])) < 0.015) }
    }
}

@Suite struct HypernetworkTests {
    @Test func logitsHaveTheCellShapeAndStartUniform() {
        let h = Hypernetwork(objectives: 2, deviceInputs: 11, outputs: 30, seed: 1)
        let alpha = h(preference: Variable(Tensor(shape: [2], scalars: [0.3, 0.7])), device: Variable(Tensor(repeating: 0.5, shape: [11])))
        #expect(alpha.shape == [30])
        let p = softmax(alpha.value.reshaped([6, 5]))
        #expect(p.scalars.allSatisfy { abs($0 - 0.2) < 1e-6 })
    }

    @Test func everyPreferenceComponentMovesTheLogits() {
        let h = Hypernetwork(objectives: 3, deviceInputs: 4, outputs: 30, seed: 2)
        var rng = SeededGenerator(seed: 3)
        for p in h.output.parameters { p.value = Tensor.uniform(shape: p.shape, low: -0.5, high: 0.5, using: &rng) }
        let r = Variable(Tensor(shape: [3], scalars: [0.2, 0.3, 0.5]), requiresGrad: true)
        let alpha = h(preference: r, device: Variable(Tensor(repeating: 1, shape: [4])))
        alpha.backward(seed: Tensor.uniform(shape: [30], low: -1, high: 1, using: &rng))
        #expect(r.grad!.scalars.allSatisfy { abs($0) > 1e-6 }, "\(r.grad!.scalars)")
    }
}

@Suite struct OutputFolderTests {
    func scratch() throws -> String { try Scratch.directory("modnas-out") }

    @Test func aFailedPublishLeavesTheFolderAsItWas() throws {
        let out = try scratch() + "/run"
        let folder = try OutputFolder(path: out, resume: false, force: false)
        try folder.prepare()
        try "old checkpoint".write(toFile: folder.checkpointPath, atomically: true, encoding: .utf8)
        try folder.publish { try "first".write(toFile: $0.file("fronts.csv"), atomically: true, encoding: .utf8) }
        #expect(try String(contentsOfFile: folder.file("fronts.csv"), encoding: .utf8) == "first")
        #expect(try String(contentsOfFile: folder.checkpointPath, encoding: .utf8) == "old checkpoint")
        // A second run fails half-way (as on a full disk): the first run's files stay, unmixed.
        struct DiskFull: Error {}
        #expect(throws: DiskFull.self) {
            try folder.publish { staging in
                try "second".write(toFile: staging.file("fronts.csv"), atomically: true, encoding: .utf8)
                throw DiskFull()
            }
        }
        #expect(try String(contentsOfFile: folder.file("fronts.csv"), encoding: .utf8) == "first")
        let parent = (out as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["run"])
        // A non-empty folder is refused unless forced or resumed.
        #expect(throws: SearchError.self) { try OutputFolder(path: out, resume: false, force: false) }
        _ = try OutputFolder(path: out, resume: true, force: false)
        _ = try OutputFolder(path: out, resume: false, force: true)
    }
}

@Suite struct KnownAnswerEvaluationTests {
    /// A front made of a device's true Pareto set scores ratio 1 and GD = IGD = 0; one
    /// architecture fewer scores below 1.
    @Test func theTrueParetoSetScoresRatioOneAndNoDistance() throws {
        let benchmark = Shipped.benchmark, index = Shipped.index
        let device = "pixel3"
        let latency = try #require(benchmark.latency[device])
        // The true Pareto set by brute force: no other architecture is at least as good in both
        // objectives and better in one (error below 90 %, as the evaluation counts).
        let candidates = index.architectures.indices.filter { benchmark.testError[$0] < 90 }
            .sorted { (benchmark.testError[$0], latency[$0]) < (benchmark.testError[$1], latency[$1]) }
        var pareto: [Int] = [], best = Double.infinity
        for i in candidates where latency[i] < best {
            pareto.append(i)
            best = latency[i]
        }
        func rows(_ indices: [Int]) -> [FrontRow] {
            indices.enumerated().map { k, i in
                FrontRow(device: device, preferenceIndex: k, preference: [1, 0], archIndex: i, architecture: index[i],
                         predictedLatencyMs: latency[i], estimatedLoss: benchmark.testError[i])
            }
        }
        let exact = try #require(FrontEvaluation.evaluate(rows(pareto), benchmark: benchmark).results.first)
        #expect(pareto.count >= 5 && abs(exact.ratio! - 1) < 1e-12 && exact.generationalDistance == 0 && exact.invertedGenerationalDistance == 0,
                "ratio \(exact.ratio!), GD \(exact.generationalDistance!), IGD \(exact.invertedGenerationalDistance!)")
        #expect(FrontEvaluation.table([exact], missing: [:]).contains("1.000"))
        let fewer = try #require(FrontEvaluation.evaluate(rows(Array(pareto.dropLast())), benchmark: benchmark).results.first)
        #expect(fewer.ratio! < 1 && fewer.invertedGenerationalDistance! > 0)
    }
}

@Suite struct DeviceCatalogTests {
    /// The main pipeline's rule: a measured host trains (on the adapted meta predictor) from
    /// `DeviceCatalog.minimumMeasurements` architectures on; with one fewer it is zero-shot.
    @Test func aHostTrainsFromTwentyMeasurementsAndIsZeroShotWithNineteen() throws {
        let dir = try Scratch.directory("modnas-catalog")
        try FileManager.default.createDirectory(atPath: dir + "/predictors", withIntermediateDirectories: true)
        let index = Shipped.index
        let metaPath = try ShippedData.path("Predictors/meta.json")
        let references = try PredictorFile.load(metaPath).referenceArchIndices
        let samples = NB201Sampler.distinct(count: 40, seed: 3).filter { !references.contains(index.index(of: $0)) }
        func latency(_ a: NB201Architecture) -> Double { a.operations.reduce(1) { $0 + [0, 0.1, 0.5, 2, 0.3][$1.rawValue] } }
        let db = try ProfileDatabase(path: dir + "/p.sqlite")
        func store(_ device: String, count: Int) throws -> DeviceFeatures {
            let d = try db.upsertDevice(name: device, source: .measured, fingerprint: nil)
            let session = try db.session(matching: SessionRecord(uuid: UUID().uuidString, deviceId: d.id!, kind: .measured, space: "nb201",
                                                                 configKey: "k", configuration: "{}", startedAt: Date()))
            for a in references.map({ index[$0] }) + samples.prefix(count - references.count) {
                let m = MeasurementRecord(sessionId: session.id!, architectureId: 0, role: "sample", label: .measured,
                                          repetitionCount: 1, medianMs: latency(a), attempts: 1, unstable: false, measuredAt: Date())
                try db.save(ArchitectureResult(architectureString: a.string, architectureIndex: index.index(of: a), measurement: m, repetitionsMs: [1],
                                               counters: [], energy: nil), space: "nb201")
            }
            return DeviceFeatures(device: device, source: .measured, referenceArchIndices: references,
                                  values: references.map { latency(index[$0]) }, host: nil)
        }
        let minimum = DeviceCatalog.minimumMeasurements
        let catalog = try DeviceCatalog(features: [try store("host_a", count: minimum), try store("host_b", count: minimum - 1)],
                                        predictorDirectory: dir + "/predictors", metaPredictor: metaPath, database: db, adaptEpochs: 5)
        let training = Dictionary(uniqueKeysWithValues: catalog.devices.map { ($0.name, $0.isTraining) })
        #expect(training == ["host_a": true, "host_b": false] && Array(catalog.adapted.keys) == ["host_a"])
    }
}
