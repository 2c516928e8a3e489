import DeviceModel
import Foundation
import Measurements
@testable import Predictors
import ProfileStore
@testable import Profiling
import SearchSpaces
import Testing
import TestSupport
import NB201Space

/// Energy from a (fake) RAPL powercap tree through the store into feature files and an energy
/// predictor; a host without energy is refused by name and reason.
@Suite(.serialized) struct EnergyStoreTests {
    /// A powercap tree whose package counter a thread advances at `watts` while `body` runs.
    func withPoweredTree<T>(watts: Double, _ body: (String) throws -> T) throws -> T {
        let root = try scratchDirectory() + "/powercap"
        try write("package-0\n", to: "\(root)/intel-rapl:0/name")
        try write("262143328850\n", to: "\(root)/intel-rapl:0/max_energy_range_uj")
        let counter = URL(fileURLWithPath: "\(root)/intel-rapl:0/energy_uj")
        try Data("1000000\n".utf8).write(to: counter)
        let running = ManagedAtomicFlag()
        let start = Date()
        let writer = Thread {
            while running.isSet {
                let microjoules = 1_000_000 + UInt64(Date().timeIntervalSince(start) * 1e6 * watts)
                try? Data("\(microjoules)\n".utf8).write(to: counter, options: .atomic)
                usleep(200)
            }
        }
        writer.start()
        defer { running.clear() }
        return try body(root)
    }

    func request(_ device: String, energyMode: String) -> SessionRequest {
        let host = HostFingerprint(hostname: "h", cpuModel: "x", cpuFlags: [], logicalCPUs: 1, allowedCPUs: [0], frequencyGovernor: nil,
                                   turbo: nil, loadAverage: [0, 0, 0], memoryBytes: nil, kernel: "6", virtualization: "none",
                                   openBLASCore: "Haswell", openBLASCoreOrigin: "test", openBLASThreads: 1, unreadable: [:], warnings: [])
        return SessionRequest(device: device, host: host, space: "nb201", configurationKey: "k", configuration: [:], batch: 1,
                              threads: 1, repeats: 3, warmup: 1, networkShape: NetworkShape(["channels": "4", "cells": "1", "resolution": "8"]), events: [], energyMode: energyMode)
    }

    /// The references and 20 samples, measured on a tiny network with `meter` (nil: energy absent for `reason`).
    func collect(_ device: String, into store: ProfileDatabase, meter: EnergyMeter?, reason: String?) throws {
        let space = NB201SearchSpace(shape: NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8))
        let settings = MeasurementSettings(repeats: 3, warmup: 1, shape: space.networkShape, minimumEnergyWindowMs: 20)
        let bench = LatencyBenchmark(settings: settings, counters: nil, energyMeter: meter, energyAbsentReason: reason)
        let session = try store.openSession(request(device, energyMode: meter == nil ? "off" : "rapl"), events: [], rounds: 1)
        let archs = try space.referenceStrings().map { try space.parse($0.string) } + NB201Sampler.distinct(count: 20, seed: 5)
        for a in archs {
            let m = try bench.measure(space.makeNetwork(a, seed: 0))
            try store.append(RoundMeasurement(architecture: a.string, index: a.code, role: "sample", round: 1, repetitionsMs: m.repetitionsMs,
                                              cpuRepetitionsMs: m.cpuRepetitionsMs, attempts: m.attempts, unstable: m.unstable,
                                              counters: [:], energy: m.energy), to: session)
        }
    }

    @Test func raplEnergyReachesFeaturesAndTrainsAnEnergyPredictor() throws {
        let store = try ProfileDatabase(path: Scratch.path("modnas-energy", suffix: ".sqlite"))
        try withPoweredTree(watts: 20) { root in
            try collect("lab", into: store, meter: try RaplPowercap(root: root, kernel: FakeKernel()), reason: nil)
        }
        let space = NB201SearchSpace()
        let features = try store.features(device: "lab", space: "nb201", references: try space.referenceStrings())
        let energies = try #require(features.energyValues)
        #expect(energies.count == 10 && features.energyAbsentReason == nil)
        // About 20 W × each reference's time per pass (passes are back to back in the window).
        let watts = zip(energies, features.values).map { $0 / ($1 / 1000) }.sorted()[5]
        #expect((8...80).contains(watts), "median implied power \(watts) W")

        let samples = try DatabaseSamples.device("lab", database: store, space: space, metric: .energy)
        // Every measurement whose window saw the counter move (all, unless the writer thread starved).
        let withEnergy = try store.exportRows(device: "lab").filter { $0.energy_j_per_inference != nil }.count
        #expect(samples.metric == .energy && samples.architectures.count == withEnergy && withEnergy >= 20
                && samples.valueLabel == "energy per inference (measured)")
        let stored = Dictionary(uniqueKeysWithValues: zip(samples.architectures, samples.values))
        #expect(try space.referenceStrings().map { stored[$0.string] } == energies)
        var configuration = TrainingConfiguration()
        (configuration.hidden, configuration.maxEpochs, configuration.patience) = ([16], 150, 20)
        let file = try PredictorTraining.mlp(samples, configuration: configuration, referenceArchIndices: features.referenceArchIndices)
        #expect(file.predictedMetric == .energy && PredictorFile.shippedName(device: "lab", space: .nb201, metric: .energy) == "energy-mlp-lab.json")
        // Predictions are joules: a latency predictor's milliseconds would be ~50× larger.
        let predicted = try DevicePredictor(file: file).objective(device: nil).predictions(samples.encodings)
        let ratio = zip(predicted, samples.values).map { $0 / $1 }.sorted()[samples.values.count / 2]
        #expect((0.7...1.4).contains(ratio), "median predicted/stored energy \(ratio)")
        // The feature file carries both vectors and reads back.
        let dir = try scratchDirectory()
        let back = try DeviceFeatures.load(try features.write(toDirectory: dir))
        #expect(try back.values(of: .energy) == energies)
        #expect(try DeviceInput(back, space: "nb201", length: 10, metric: .energy).logScale < DeviceInput(back, space: "nb201", length: 10).logScale)
    }

    @Test func aHostWithoutEnergyIsRefusedByNameAndReason() throws {
        let store = try ProfileDatabase(path: Scratch.path("modnas-no-energy", suffix: ".sqlite"))
        let reason = "no RAPL powercap tree at /sys/class/powercap"
        try collect("vm", into: store, meter: nil, reason: reason)
        let features = try store.features(device: "vm", space: "nb201", references: try NB201SearchSpace().referenceStrings())
        #expect(features.energyValues == nil && features.energyAbsentReason?.contains(reason) == true)
        #expect { try features.values(of: .energy) } throws: { "\($0)".contains("'vm'") && "\($0)".contains(reason) }
        #expect { try DeviceInput(features, space: "nb201", length: 10, metric: .energy) } throws: { "\($0)".contains(reason) }
        #expect { try DatabaseSamples.device("vm", database: store, space: NB201SearchSpace(), metric: .energy) } throws: { error in
            "\(error)".contains("device 'vm' has no energy") && "\(error)".contains(reason) && !"\(error)".contains("\n")
        }
        // Its latencies still train.
        #expect(try DatabaseSamples.device("vm", database: store, space: NB201SearchSpace()).architectures.count == 30)
    }
}

/// A flag two threads share.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = true
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func clear() { lock.lock(); value = false; lock.unlock() }
}
