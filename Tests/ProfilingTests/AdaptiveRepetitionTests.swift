import Autodiff
import DeviceModel
import Foundation
import GRDB
import Measurements
import Testing
@testable import ProfileStore
@testable import Profiling
import SearchSpaces
import Statistics
import NB201Space

/// A collection of the 10 NB201 references on a tiny network in 1 round, without counters or energy.
func tinyReferenceCollection(_ dir: String, device: String, repeats: Int, targetCI: Double, budgetMs: Double = 1e9,
                             latency: LatencyClock = .wall) -> CollectOptions {
    var o = CollectOptions()
    o.profilesDirectory = dir + "/Profiles"
    o.device = device
    o.samples = 0
    o.rounds = 1
    o.events = []
    o.energy = .off
    o.targetCI = targetCI
    o.budgetMs = budgetMs
    o.latency = latency
    o.settings = MeasurementSettings(repeats: repeats, warmup: 0, batch: 1, shape: NetworkShape(["channels": "4", "cells": "1", "resolution": "8"]),
                                     unstableCV: 10)
    return o
}

@Suite struct MedianIntervalTests {
    @Test func aConstantSampleIsExactAndOneRepetitionSaysNothing() {
        var rng = SeededGenerator(seed: 1)
        #expect(SampleStatistics.medianIntervalRelativeHalfWidth([2, 2, 2, 2], using: &rng) == 0)
        #expect(SampleStatistics.medianIntervalRelativeHalfWidth([2], using: &rng) == .infinity)
    }

    /// The median of n uniform draws on 0.9…1.1 has standard error 1 / (2 f √n) with density
    /// f = 5: for n = 2,000 the 95 % half-width is 1.96 × 0.00224 ≈ 0.0044 of the median.
    @Test func theHalfWidthMatchesTheMediansStandardError() {
        var rng = SeededGenerator(seed: 7)
        let many = (0..<2000).map { _ in Double.random(in: 0.9...1.1, using: &rng) }
        let width = SampleStatistics.medianIntervalRelativeHalfWidth(many, using: &rng)
        #expect(width > 0.0033 && width < 0.0055)
        let few = SampleStatistics.medianIntervalRelativeHalfWidth(Array(many.prefix(20)), using: &rng)
        #expect(few > 4 * width)
    }
}

@Suite struct HostNoiseTests {
    @Test func stealIsSummedOverTheAllowedCPUsAndSwitchesAreRead() {
        let stat = """
            cpu  100 0 50 1000 0 0 0 9 0 0
            cpu0 50 0 25 500 0 0 0 4 0 0
            cpu1 50 0 25 500 0 0 0 5 0 0
            cpu2 50 0 25 500 0 0 0 7 0 0
            intr 1
            """
        #expect(HostNoiseProbe.steal(in: stat, cpus: [0, 2]) == (11, nil))
        #expect(HostNoiseProbe.steal(in: stat, cpus: [3]).0 == nil)
        #expect(HostNoiseProbe.steal(in: "cpu0 1 2 3 4\n", cpus: [0]).1 == "this kernel's /proc/stat has no steal column")
        #expect(HostNoiseProbe.involuntarySwitches(in: "voluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t12\n") == (12, nil))
        #expect(HostNoiseProbe.involuntarySwitches(in: "Name: x\n").0 == nil)
    }

    @Test func thisHostsKernelReportsBothOrSaysWhy() throws {
        let kernel = LinuxKernel()
        let probe = HostNoiseProbe(kernel: kernel, cpus: try kernel.allowedCPUs())
        let a = probe.read()
        // Burn a little CPU so the window is not empty.
        var x = 0.0
        for i in 0..<200_000 { x += Double(i).squareRoot() }
        #expect(x > 0)
        let w = probe.window(from: a, to: probe.read())
        #expect((w.stealMs != nil) != (w.stealAbsentReason != nil))
        #expect(w.involuntarySwitches != nil && w.involuntarySwitches! >= 0)
        #expect(w.stealMs.map { $0 >= 0 } ?? true)
    }

    @Test func aRoundWithoutStealMakesTheTotalAbsent() {
        func round(_ n: Int, steal: Double?) -> RoundMeasurement {
            RoundMeasurement(architecture: "a", index: nil, role: "sample", round: n, repetitionsMs: [1, 2], cpuRepetitionsMs: [1, 2], attempts: 1,
                             unstable: false, counters: [:], energy: .absent(reason: "off"),
                             noise: HostNoise(stealMs: steal, stealAbsentReason: "no steal column", involuntarySwitches: 3, switchesAbsentReason: nil))
        }
        let first = ProfileDatabase.combine(nil, round(1, steal: 10))
        #expect(first.measurement.stealMs == 10 && first.measurement.involuntarySwitches == 3 && first.measurement.stealAbsentReason == nil)
        let stored = StoredMeasurement(measurement: first.measurement, repetitionsMs: first.repetitionsMs, cpuRepetitionsMs: first.cpuRepetitionsMs,
                                       counters: [], energy: nil)
        let second = ProfileDatabase.combine(stored, round(2, steal: 20))
        #expect(second.measurement.stealMs == 30 && second.measurement.involuntarySwitches == 6)
        let secondStored = StoredMeasurement(measurement: second.measurement, repetitionsMs: second.repetitionsMs,
                                             cpuRepetitionsMs: second.cpuRepetitionsMs, counters: [], energy: nil)
        let third = ProfileDatabase.combine(secondStored, round(3, steal: nil))
        #expect(third.measurement.stealMs == nil && third.measurement.stealAbsentReason == "no steal column" && third.measurement.involuntarySwitches == 9)
    }
}

@Suite struct AdaptiveRepetitionTests {
    func options(_ dir: String, targetCI: Double, budgetMs: Double = 1e9, latency: LatencyClock = .wall) -> CollectOptions {
        tinyReferenceCollection(dir, device: "adaptive", repeats: 2, targetCI: targetCI, budgetMs: budgetMs, latency: latency)
    }

    @Test func anUnreachableTargetStopsAtTheRepetitionCap() throws {
        let dir = try scratchDirectory()
        let store = try ProfileDatabase(writer: DatabaseQueue())
        let summary = try Collector(options: options(dir, targetCI: 1e-9)) { store }.run()
        let rows = try store.exportRows(device: "adaptive")
        // 2 per round, up to 10 × 2 in all: 9 adaptive rounds after the first.
        #expect(rows.count == 10 && rows.allSatisfy { $0.repetitions == CollectOptions.repetitionCapFactor * 2 })
        #expect(summary.adaptiveRounds == 9 && summary.withinTarget == 0 && summary.inSession == 10)
        #expect(summary.table.contains("then 9 adaptive rounds: 0 of 10 architectures have their median within ±1e-07 %"))
    }

    @Test func aReachedTargetOrASpentBudgetAddsNoRound() throws {
        let dir = try scratchDirectory()
        let wide = try ProfileDatabase(writer: DatabaseQueue())
        let reached = try Collector(options: options(dir, targetCI: 10)) { wide }.run()
        #expect(reached.adaptiveRounds == 0 && reached.withinTarget == 10)
        let spent = try ProfileDatabase(writer: DatabaseQueue())
        let budget = try Collector(options: options(dir, targetCI: 1e-9, budgetMs: 0)) { spent }.run()
        #expect(budget.adaptiveRounds == 0 && budget.withinTarget == 0)
        #expect(try spent.exportRows(device: "adaptive").allSatisfy { $0.repetitions == 2 })
    }

    /// `--latency cpu` makes the features, the device's latencies and the labels CPU time; a
    /// later run with wall time switches the same session back, since both clocks are stored.
    @Test func theSessionsClockDecidesWhatTheFeaturesAndLatenciesHold() throws {
        let dir = try scratchDirectory()
        let store = try ProfileDatabase(writer: DatabaseQueue())
        let cpu = try Collector(options: options(dir, targetCI: 0, latency: .cpu)) { store }.run()
        let rows = try store.exportRows(device: "adaptive")
        #expect(rows.allSatisfy { $0.latency_clock == "cpu" && $0.cpu_median_ms != $0.median_ms })
        let cpuFeatures = try DeviceFeatures.load(try #require(cpu.featuresPath))
        let references = try NB201SearchSpace().referenceStrings()
        let byString = Dictionary(uniqueKeysWithValues: rows.map { ($0.arch_string, $0) })
        #expect(cpuFeatures.latencyClock == .cpu && cpuFeatures.latencyLabel == "median thread CPU time (measured)")
        #expect(cpuFeatures.values == references.map { byString[$0.string]!.cpu_median_ms! })
        #expect(try store.latencies(device: "adaptive", space: "nb201") == Dictionary(uniqueKeysWithValues: rows.map { ($0.arch_string, $0.cpu_median_ms!) }))
        // The end-of-session check (all 10 measured again) is in the file.
        #expect(cpuFeatures.repeatability?.count == 10)
        #expect(cpu.table.contains("latency: median thread CPU time (--latency cpu)"))

        let wall = try Collector(options: options(dir, targetCI: 0, latency: .wall)) { store }.run()
        #expect(wall.measured == 0)
        let wallFeatures = try DeviceFeatures.load(try #require(wall.featuresPath))
        #expect(wallFeatures.latencyClock == .wall && wallFeatures.values == references.map { byString[$0.string]!.median_ms })
        #expect(try store.latencyClock(device: "adaptive", space: "nb201") == .wall)
    }
}

@Suite struct FeatureFileClockTests {
    func write(_ object: [String: Any]) throws -> String {
        let path = try scratchDirectory() + "/f.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    var base: [String: Any] {
        ["format": DeviceFeatures.formatVersion, "device": "lab", "space": "nb201", "source": "measured", "metric": "latency_ms",
         "reference_arch_indices": [1, 2, 3], "values": [1.0, 2.0, 3.0]]
    }

    @Test func anOlderMeasuredFileHoldsWallTime() throws {
        let f = try DeviceFeatures.load(try write(base))
        #expect(f.latencyClock == nil && f.clock == .wall && f.latencyLabel == "median wall time (measured)")
    }

    @Test func aBenchmarkFileWithAClockOrADamagedCheckIsRefused() throws {
        var benchmark = base
        benchmark["source"] = "benchmark"
        benchmark["latency_clock"] = "cpu"
        #expect(throws: DeviceModelError.self) { try DeviceFeatures.load(try write(benchmark)) }
        var damaged = base
        let agreement: [String: Any] = ["spearman": 2.0, "kendall": 0.5, "medianRelativeDifference": 0.01]
        damaged["repeatability"] = ["count": 10, "wall": agreement]
        #expect(throws: DeviceModelError.self) { try DeviceFeatures.load(try write(damaged)) }
        var unknownClock = base
        unknownClock["latency_clock"] = "sundial"
        #expect(throws: DeviceModelError.self) { try DeviceFeatures.load(try write(unknownClock)) }
    }
}

@Suite struct GraphPolicyTests {
    /// Sessions of both spaces time the deployed graph, and say so in their key.
    @Test func theSessionKeySaysWhichGraphIsTimed() throws {
        var o = CollectOptions()
        #expect(try o.configurationKey().contains("graph=deployed"))
        o.space = .ofa
        #expect(try o.configurationKey().contains("graph=deployed"))
    }
}
