import DeviceModel
import Foundation
import Measurements
import Testing
import TestSupport
@testable import Predictors
import ProfileStore
import SearchSpaces
import NB201Space

/// A measured device's training data follow the clock its session chose, and the predictor file says which.
@Suite struct LatencyClockTrainingTests {
    @Test func aCPUTimeSessionTrainsOnCPUTimeAndSaysSo() throws {
        let path = Scratch.path("modnas-clock", suffix: ".sqlite")
        let store = try ProfileDatabase(path: path)
        let host = HostFingerprint(hostname: "h", cpuModel: "x", cpuFlags: [], logicalCPUs: 1, allowedCPUs: [0], frequencyGovernor: nil,
                                   turbo: nil, loadAverage: [0, 0, 0], memoryBytes: nil, kernel: "6", virtualization: "none",
                                   openBLASCore: "Haswell", openBLASCoreOrigin: "test", openBLASThreads: 1, unreadable: [:], warnings: [])
        let request = SessionRequest(device: "lab", host: host, space: "nb201", configurationKey: "k", configuration: [:], batch: 1,
                                     threads: 1, repeats: 2, warmup: 0, networkShape: NB201SearchSpace().networkShape, events: [],
                                     energyMode: "off", latencyClock: .cpu)
        let session = try store.openSession(request, events: [], rounds: 1)
        var cpuByString: [String: Double] = [:]
        for (k, architecture) in NB201Sampler.distinct(count: 12, seed: 3).enumerated() {
            let string = architecture.string
            // Wall time twice the CPU time: training on the wrong one would be off by log 2.
            let cpu = Double(1 + k % 7)
            try store.append(RoundMeasurement(architecture: string, index: nil, role: "sample", round: 1, repetitionsMs: [2 * cpu, 2 * cpu],
                                              cpuRepetitionsMs: [cpu, cpu], attempts: 1, unstable: false, counters: [:],
                                              energy: .absent(reason: "off")), to: session)
            cpuByString[string] = cpu
        }
        let samples = try DatabaseSamples.device("lab", database: store, space: NB201SearchSpace())
        #expect(samples.latencyClock == .cpu && samples.valueLabel == "median thread CPU time (measured)")
        #expect(Dictionary(uniqueKeysWithValues: zip(samples.architectures, samples.values)) == cpuByString)
        let file = try PredictorTraining.mlp(samples, configuration: quickConfiguration(), referenceArchIndices: Array(0..<10))
        #expect(file.training.latencies == ["lab": "median thread CPU time (measured)"])
    }
}
