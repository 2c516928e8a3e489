import Autodiff
import CPerfEvent
import DeviceModel
import Foundation
import GRDB
import Measurements
import Testing
import TestSupport
@testable import ProfileStore
@testable import Profiling
import SearchSpaces
import Statistics
import NB201Space
import OFASpace

/// A kernel door for tests: perf_event_open answers by event type, reads return canned words,
/// files come from the real file system except those listed as root-only.
final class FakeKernel: KernelInterface {
    var refuse: [UInt32: Int32] = [UInt32(PERF_TYPE_HARDWARE.rawValue): ENOENT]
    /// Errno for opens that include kernel level (then the opener must retry at user level).
    var refuseKernelLevel: Int32?
    var rootOnly: Set<String> = []
    var opened: [(type: UInt32, config: UInt64, groupFD: Int32, excludeKernel: UInt64)] = []
    var groupWords: [Int32: [UInt64]] = [:]
    var controls: [(Int32, PerfEventControl)] = []
    private var nextFD: Int32 = 100
    private let real = LinuxKernel()

    func perfEventOpen(_ attr: perf_event_attr, pid: Int32, cpu: Int32, groupFD: Int32) throws -> Int32 {
        if let code = refuse[attr.type] { throw KernelCallError(call: "perf_event_open", code: code) }
        if let code = refuseKernelLevel, attr.exclude_kernel == 0 { throw KernelCallError(call: "perf_event_open", code: code) }
        opened.append((attr.type, attr.config, groupFD, attr.exclude_kernel))
        nextFD += 1
        return nextFD
    }
    func control(_ fd: Int32, _ request: PerfEventControl, group: Bool) throws { controls.append((fd, request)) }
    func readWords(_ fd: Int32, count words: Int) throws -> [UInt64] { groupWords[fd] ?? [] }
    func close(_ fd: Int32) {}
    func readFile(_ path: String) throws -> String {
        if rootOnly.contains(path) { throw KernelCallError(call: "open(\(path))", code: EACCES) }
        return try real.readFile(path)
    }
    func listDirectory(_ path: String) throws -> [String] { try real.listDirectory(path) }
    func allowedCPUs() throws -> [Int] { [0, 1] }
    func pin(to cpus: [Int]) throws {}
}

func scratchDirectory() throws -> String { try Scratch.directory("modnas-profiling") }

func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite struct CounterTests {
    @Test func multiplexedCountsAreScaledByEnabledOverRunning() throws {
        let r = try #require(CounterReading.parseGroup([2, 1000, 250, 100, 7], members: 2))
        #expect(r[0].value == 400 && r[0].scaled)
        #expect(r[1].value == 28 && r[1].raw == 7)
        let full = try #require(CounterReading.parseGroup([1, 500, 500, 42], members: 1))
        #expect(full[0].value == 42 && !full[0].scaled)
        // A group that never ran has no value at all (absent, not 0).
        let never = try #require(CounterReading.parseGroup([1, 500, 0, 0], members: 1))
        #expect(never[0].value == nil)
        #expect(CounterReading.parseGroup([3, 1, 1, 5], members: 3) == nil)
    }

    @Test func eventsAreGroupedPerPMUAndUnsupportedOnesRecordedWithErrno() throws {
        let kernel = FakeKernel()
        let events = try EventEncoder.encode(["cycles", "task-clock", "instructions", "page-faults"])
        let groups = CounterGroups(events: events, kernel: kernel)
        let byName = Dictionary(uniqueKeysWithValues: groups.statuses.map { ($0.name, $0) })
        #expect(byName["cycles"]?.supported == false && byName["instructions"]?.supported == false)
        #expect(byName["cycles"]?.reason?.contains("ENOENT") == true)
        #expect(byName["task-clock"]?.supported == true && byName["page-faults"]?.supported == true)
        // The software group: leader opened alone, member attached to it.
        #expect(kernel.opened.count == 2 && kernel.opened[0].groupFD == -1 && kernel.opened[1].groupFD == 101)
        kernel.groupWords[101] = [2, 2000, 1000, 10, 3]
        try groups.start()
        let readings = try groups.stop()
        #expect(readings["task-clock"]?.value == 20 && readings["page-faults"]?.value == 6)
        #expect(readings["cycles"] == nil)
        #expect(kernel.controls.map(\.1) == [.reset, .enable, .disable])
    }

    @Test func refusedKernelLevelFallsBackToUserLevel() throws {
        let kernel = FakeKernel()
        kernel.refuseKernelLevel = EACCES
        let groups = CounterGroups(events: try EventEncoder.encode(["task-clock"]), kernel: kernel)
        #expect(groups.statuses[0].supported && groups.statuses[0].privilege == "user")
        #expect(kernel.opened[0].excludeKernel == 1)
    }

    @Test func unknownEventNameIsAnError() {
        #expect(throws: ProfilingError.self) { try EventEncoder.encode(["cycles", "no-such-event-xyz"]) }
        do { _ = try EventEncoder.encode(["no-such-event-xyz"]) } catch {
            #expect("\(error)".contains("does not know the event 'no-such-event-xyz'"))
        }
    }
}

@Suite struct EnergyTests {
    /// A powercap tree: package-0 with core and uncore subzones, dram, and optionally psys.
    func powercapTree(psys: Bool) throws -> String {
        let root = try scratchDirectory() + "/powercap"
        let zones: [(String, String, UInt64, UInt64)] = [
            ("intel-rapl:0", "package-0", 1_000_000, 262_143_328_850),
            ("intel-rapl:0:0", "core", 400_000, 262_143_328_850),
            ("intel-rapl:0:1", "uncore", 100_000, 262_143_328_850),
            ("intel-rapl:0:2", "dram", 50_000, 65_712_999_613),
        ] + (psys ? [("intel-rapl:1", "psys", 5_000_000, 262_143_328_850)] : [])
        for (dir, name, energy, maxRange) in zones {
            try write(name + "\n", to: "\(root)/\(dir)/name")
            try write("\(energy)\n", to: "\(root)/\(dir)/energy_uj")
            try write("\(maxRange)\n", to: "\(root)/\(dir)/max_energy_range_uj")
        }
        return root
    }

    @Test func packageAndDramAreAddedButNeverTheirSubdomains() throws {
        let root = try powercapTree(psys: false)
        let rapl = try RaplPowercap(root: root, kernel: FakeKernel())
        #expect(rapl.domains == ["package-0", "dram"])
        let start = try rapl.sample()
        try write("1500000\n", to: "\(root)/intel-rapl:0/energy_uj")       // +0.5 J
        try write("9000000\n", to: "\(root)/intel-rapl:0:0/energy_uj")     // core: ignored
        try write("150000\n", to: "\(root)/intel-rapl:0:2/energy_uj")      // +0.1 J
        #expect(abs(rapl.joules(from: start, to: try rapl.sample()) - 0.6) < 1e-9)
    }

    @Test func psysStandsAlone() throws {
        #expect(try RaplPowercap(root: try powercapTree(psys: true), kernel: FakeKernel()).domains == ["psys"])
    }

    @Test func wrapAroundUsesTheMaximumRange() throws {
        #expect(RaplPowercap.delta(from: 900, to: 1000, maxRange: 2000) == 100)
        #expect(RaplPowercap.delta(from: 1_900, to: 50, maxRange: 2000) == 150)
        let root = try powercapTree(psys: false)
        let rapl = try RaplPowercap(root: root, kernel: FakeKernel())
        try write("262143000000\n", to: "\(root)/intel-rapl:0/energy_uj")
        let start = try rapl.sample()
        try write("671150\n", to: "\(root)/intel-rapl:0/energy_uj")   // wrapped: 328850 + 671150 µJ
        #expect(abs(rapl.joules(from: start, to: try rapl.sample()) - 1.0) < 1e-9)
    }

    @Test func rootOnlyEnergyFileIsReportedAsSuch() throws {
        let root = try powercapTree(psys: false)
        let kernel = FakeKernel()
        kernel.rootOnly = ["\(root)/intel-rapl:0/energy_uj"]
        #expect(throws: ProfilingError.self) { try RaplPowercap(root: root, kernel: kernel) }
        do { _ = try RaplPowercap(root: root, kernel: kernel) } catch {
            #expect("\(error)".contains("CVE-2020-8694") && "\(error)".contains("EACCES"))
        }
        // auto: no failure, energy absent with both sources' reasons.
        let (meter, reason) = try EnergyProbe.meter(mode: .auto, kernel: kernel, powercapRoot: root,
                                                    powerPMURoot: root + "/no-power-pmu")
        #expect(meter == nil)
        #expect(reason?.contains("root only") == true && reason?.contains("no perf power PMU") == true)
    }

    @Test func perfPowerPMUWithoutEventsIsNoSource() throws {
        let root = try scratchDirectory() + "/power"
        try write("9\n", to: "\(root)/type")
        try write("0\n", to: "\(root)/cpumask")
        try FileManager.default.createDirectory(atPath: root + "/events", withIntermediateDirectories: true)
        #expect(throws: ProfilingError.energyUnavailable(mode: "perf", reason: "the perf power PMU lists no energy events")) {
            try PerfPowerMeter(root: root, kernel: FakeKernel())
        }
        try write("event=0x02\n", to: "\(root)/events/energy-pkg")
        try write("2.3283064365386962890625e-10\n", to: "\(root)/events/energy-pkg.scale")
        try write("event=0x01\n", to: "\(root)/events/energy-cores")
        let kernel = FakeKernel()
        kernel.refuse = [:]
        let meter = try PerfPowerMeter(root: root, kernel: kernel)
        #expect(meter.domains == ["energy-pkg"] && kernel.opened.first?.config == 2 && kernel.opened.first?.type == 9)
        #expect(abs(meter.joules(from: [0], to: [1 << 32]) - 1.0) < 1e-9)
    }

    /// A meter whose counter never moves: energy must be absent, not 0.
    final class FrozenMeter: EnergyMeter {
        let source = "perf-power", domains = ["energy-psys"]
        func sample() throws -> [UInt64] { [12345] }
        func joules(from start: [UInt64], to end: [UInt64]) -> Double { 0 }
    }

    @Test func aCounterThatDoesNotMoveIsNotAMeasurement() throws {
        let space = NB201SearchSpace(shape: NB201NetworkShape(channels: 2, cellsPerStage: 1, resolution: 8))
        let settings = MeasurementSettings(repeats: 3, warmup: 0, shape: space.networkShape, minimumEnergyWindowMs: 20)
        let bench = LatencyBenchmark(settings: settings, counters: nil, energyMeter: FrozenMeter(), energyAbsentReason: nil)
        let m = try bench.measure(space.makeNetwork(NB201Architecture(code: 777), seed: 0))
        guard case .absent(let reason) = m.energy else { Issue.record("energy stored as \(m.energy)"); return }
        #expect(reason.contains("did not move"))
        // The window was extended to the minimum with extra passes.
        #expect(m.countedPasses >= 3 && m.repetitionsMs.count == 3)
    }

    /// Each repetition's CPU time is the measuring thread's own: positive, and not above the
    /// repetition's wall time (one OpenBLAS thread, the work runs on the calling thread). The two
    /// clocks tick at slightly different rates (the thread clock is the scheduler's, unslewed;
    /// `CLOCK_MONOTONIC` is NTP-slewed, up to 500 ppm; a VM's kvm-clock adds its own skew), and
    /// the CPU window encloses the wall window, so the bound allows 0.5 % plus 0.05 ms: a CPU time
    /// of the whole process (two busy threads) or of the wrong window would still fail it. The
    /// thread's CPU time follows the work, whatever else the machine runs (its waits are not CPU
    /// time): a batch of 4 images takes more of it than one image in every repetition.
    @Test func cpuTimeIsMeasuredPerRepetitionAndBoundedByWallTime() throws {
        OpenBLAS.setThreadCount(1)
        let network = try NB201SearchSpace().makeNetwork(NB201Architecture(code: 1462), seed: 0)
        func measured(batch: Int) throws -> ArchitectureMeasurement {
            try LatencyBenchmark(settings: MeasurementSettings(repeats: 8, warmup: 1, batch: batch), counters: nil, energyMeter: nil,
                                 energyAbsentReason: "off").measure(network)
        }
        let one = try measured(batch: 1), four = try measured(batch: 4)
        for m in [one, four] {
            #expect(m.cpuRepetitionsMs.count == m.repetitionsMs.count)
            for (cpu, wall) in zip(m.cpuRepetitionsMs, m.repetitionsMs) { #expect(cpu > 0 && cpu <= wall * 1.005 + 0.05, "cpu \(cpu) ms, wall \(wall) ms") }
        }
        #expect(four.cpuRepetitionsMs.min()! > one.cpuRepetitionsMs.max()!, "batch 4 \(four.cpuRepetitionsMs), batch 1 \(one.cpuRepetitionsMs)")
    }
}

@Suite struct PlanTests {
    @Test func shardsPartitionTheSampleDeterministically() throws {
        #expect(throws: ProfilingError.badShard("4/4")) { try Shard(parsing: "4/4") }
        #expect(throws: ProfilingError.self) { try Shard(parsing: "-1/3") }
        #expect(throws: ProfilingError.self) { try Shard(parsing: "x") }
        func plan<S: SearchSpace>(_ space: S, samples: Int, shard: Shard) throws -> [PlannedArchitecture] {
            try CollectionPlan.make(space: space, samples: samples, seed: 5, listed: [], shard: shard).map(\.planned)
        }
        for space in SpaceName.allCases {
            let whole = try plan(space.space, samples: 30, shard: .whole)
            #expect(whole.count == 40 && whole.prefix(10).allSatisfy { $0.role == "reference" && $0.index != nil })
            var union = Set<String>()
            for i in 0..<3 {
                let part = try plan(space.space, samples: 30, shard: Shard(index: i, count: 3))
                #expect(part.prefix(10) == whole.prefix(10))
                union.formUnion(part.dropFirst(10).map(\.string))
            }
            #expect(union == Set(whole.dropFirst(10).map(\.string)))
            // A larger sample extends the same list: resuming with more samples re-measures nothing.
            let more = try plan(space.space, samples: 50, shard: .whole)
            #expect(Array(more.prefix(40)) == whole)
        }
    }

    @Test func architectureFilesAreCSVOrLines() throws {
        let dir = try scratchDirectory(), nb201 = NB201SearchSpace()
        let s1 = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"
        let s2 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
        try write("arch_index,arch_string\n1,\(s1)\n2,\(s2)\n", to: dir + "/a.csv")
        try write("# front\n\(s1)\n\n\(s2)\n", to: dir + "/a.txt")
        #expect(try CollectionPlan.readArchitectureList(dir + "/a.csv", space: nb201).map(\.string) == [s1, s2])
        #expect(try CollectionPlan.readArchitectureList(dir + "/a.txt", space: nb201).map(\.string) == [s1, s2])
        // As Python's csv module and Windows editors write them: CRLF line ends, a byte-order mark.
        try write("\u{FEFF}arch_index,arch_string\r\n1,\(s1)\r\n2,\(s2)\r\n", to: dir + "/crlf.csv")
        try write("\u{FEFF}\(s1)\r\n\(s2)\r\n", to: dir + "/crlf.txt")
        #expect(try CollectionPlan.readArchitectureList(dir + "/crlf.csv", space: nb201).map(\.string) == [s1, s2])
        #expect(try CollectionPlan.readArchitectureList(dir + "/crlf.txt", space: nb201).map(\.string) == [s1, s2])
        // A bad line is named by its number and shown as one line, however long the file.
        try write(String(repeating: "x\r", count: 500), to: dir + "/cr.txt")
        do { _ = try CollectionPlan.readArchitectureList(dir + "/cr.txt", space: nb201); Issue.record("accepted") } catch {
            #expect("\(error)".contains("cr.txt line 1") && !"\(error)".contains(where: \.isNewline), "\(error)")
        }
        try write("\(s1)\n|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|\n", to: dir + "/bad.txt")
        do { _ = try CollectionPlan.readArchitectureList(dir + "/bad.txt", space: nb201); Issue.record("accepted") } catch {
            #expect("\(error)".contains("bad.txt line 2") && "\(error)".contains("unknown operation 'bogus'"), "\(error)")
        }
        #expect(throws: ProfilingError.self) { try CollectionPlan.readArchitectureList(dir + "/missing.txt", space: nb201) }
    }

    /// OFA lists: the shared table's ks, e, d, r columns, or canonical strings.
    @Test func ofaListsUseTheTableColumnsOrStrings() throws {
        let dir = try scratchDirectory(), ofa = OFASearchSpace()
        let first = try OFASearchSpace.shippedArchitectures()[0]
        let c = first.columns
        try write("arch_index,ks,e,d,r\r\n0,\(c.ks),\(c.e),\(c.d),\(c.r)\r\n", to: dir + "/ofa.csv")
        try write("\(first.string)\n", to: dir + "/ofa.txt")
        #expect(try CollectionPlan.readArchitectureList(dir + "/ofa.csv", space: ofa) == [first])
        #expect(try CollectionPlan.readArchitectureList(dir + "/ofa.txt", space: ofa) == [first])
        try write("arch_index,ks,e,d,r\n0,\(c.ks),\(c.e),2 2 2 9 2,\(c.r)\n", to: dir + "/bad.csv")
        do { _ = try CollectionPlan.readArchitectureList(dir + "/bad.csv", space: ofa); Issue.record("accepted") } catch {
            #expect("\(error)".contains("bad.csv line 2") && "\(error)".contains("column d holds 9"), "\(error)")
        }
        // An NB201 string is no OFA architecture.
        #expect(throws: ProfilingError.self) {
            try CollectionPlan.parseArchitectureList("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n", path: "x", space: ofa)
        }
    }
}

@Suite struct HostCheckTests {
    @Test func noisySetUpsAreWarnedAbout() {
        let host = HostFingerprint(hostname: "h", cpuModel: "x", cpuFlags: [], logicalCPUs: 2, allowedCPUs: [0, 1],
                                   frequencyGovernor: "powersave", turbo: "on", loadAverage: [3.0, 1, 1], memoryBytes: nil,
                                   kernel: "6", virtualization: "hypervisor flag set", openBLASCore: "SkylakeX",
                                   openBLASCoreOrigin: "detected", openBLASThreads: 4, unreadable: [:], warnings: [])
        let w = HostCheck.warnings(for: host, threads: 4)
        #expect(w.count == 5)
        var quiet = host
        (quiet.frequencyGovernor, quiet.turbo, quiet.loadAverage, quiet.virtualization) = ("performance", "off", [0.1], "none detected")
        #expect(HostCheck.warnings(for: quiet, threads: 1).isEmpty)
    }

    @Test func fingerprintOfThisHostNamesItsOpenBLASCore() {
        let host = HostCheck.fingerprint(kernel: LinuxKernel(), threads: 1)
        #expect(!host.cpuModel.isEmpty && !host.kernel.isEmpty && !host.openBLASCore.isEmpty)
        #expect(!host.allowedCPUs.isEmpty && host.loadAverage.count == 3)
    }
}

@Suite struct StatisticsTests {
    @Test func oneRepetitionHasNoSpread() {
        let one = SampleStatistics([4.0])
        #expect(one.median == 4 && one.coefficientOfVariation == nil && one.medianAbsoluteDeviation == nil)
        let three = SampleStatistics([1.0, 2.0, 3.0])
        #expect(three.medianAbsoluteDeviation == 1 && abs(three.coefficientOfVariation! - 0.5) < 1e-12)
    }

    @Test func aStoredSingleRepetitionLeavesCVAndMADAbsent() throws {
        let dir = try scratchDirectory()
        let o = tinyReferenceCollection(dir, device: "one_rep", repeats: 1, targetCI: 0)
        // The store as the collector's sink, in memory.
        let store = try ProfileDatabase(writer: DatabaseQueue())
        _ = try Collector(options: o) { store }.run()
        let rows = try store.exportRows(device: "one_rep")
        #expect(rows.count == 10 && rows.allSatisfy { $0.cv == nil && $0.mad_ms == nil && $0.median_ms > 0 })
    }
}

@Suite struct RepeatabilityTests {
    /// Agreement of two passes, computed by hand: the same order (ρ = τ = 1) and relative
    /// differences 0.1/1.05, 0.2/2.1, 0.1/2.95 and 0.4/4.2, whose median is 2/21.
    @Test func agreementMatchesHandComputedValues() {
        let a = Repeatability.Agreement([1, 2, 3, 4], [1.1, 2.2, 2.9, 4.4])
        #expect(a.spearman == 1 && a.kendall == 1 && abs(a.medianRelativeDifference - 2.0 / 21) < 1e-12)
        let reversed = Repeatability.Agreement([1, 2, 3], [3, 2, 1])
        #expect(reversed.spearman == -1 && reversed.kendall == -1)
    }

    @Test func subsetIsTenPercentAndAtLeastTen() {
        #expect(Repeatability.subsetSize(planned: 40, percent: 10) == 10 && Repeatability.subsetSize(planned: 200, percent: 10) == 20)
        #expect(Repeatability.subsetSize(planned: 5, percent: 10) == 5 && Repeatability.subsetSize(planned: 2, percent: 10) == 0)
        #expect(Repeatability.subsetSize(planned: 40, percent: 0) == 0 && Repeatability.subsetSize(planned: 101, percent: 10) == 11)
    }
}
