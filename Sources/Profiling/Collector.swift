import Autodiff
import DeviceModel
import Foundation
import Measurements
import ModelExport
import SearchSpaces
import Statistics

/// What runs the networks a collection times.
public enum Runtime: String, CaseIterable, Sendable {
    /// modnas's own engine, on the measuring thread.
    case engine
    /// ONNX Runtime (CPU execution provider) in a worker process, on the exported deployed graph.
    case onnxruntime
}

/// The options of `modnas-profile collect --host`.
public struct CollectOptions: Sendable {
    public var space = SpaceName.nb201
    public var samples = 20
    public var architectureFile: String?
    /// `settings.repeats` is the total of timed passes per architecture, spread over this many
    /// visits of the whole plan, so that slow and fast periods of a shared host reach every
    /// architecture alike.
    public var rounds = 4
    public var settings = MeasurementSettings()
    public var threads = 1
    public var events = EventEncoder.defaultEvents
    public var energy = EnergyMode.auto
    /// Device name; the host name when nil.
    public var device: String?
    public var profilesDirectory = "Profiles"
    /// Lets a measured host take a benchmark device's name (its feature file is then replaced).
    public var force = false
    public var shard = Shard.whole
    public var seed: UInt64 = 0
    /// CPUs to pin the measuring thread to (nil: no pinning).
    public var pinnedCPUs: [Int]?
    /// Percent of the plan measured again at the end of a session, in a fresh order, for the
    /// session's repeatability (at least 10 architectures; 0: no check).
    public var recheckPercent = 10.0
    /// Which clock is the device's latency (both are stored).
    public var latency = LatencyClock.wall
    /// After the fixed rounds, an architecture is visited again, round by round, until the 95 %
    /// bootstrap interval of its median (on `latency`'s clock) is within ± this fraction (0: off)…
    public var targetCI = 0.02
    /// …or it has had this many milliseconds of timed passes…
    public var budgetMs = 1000.0
    /// …or this many times `settings.repeats` repetitions.
    public static let repetitionCapFactor = 10
    public var runtime = Runtime.engine

    public init() {}

    /// The space measured, at the network shape `settings.shape` names.
    public func searchSpace() throws -> any SearchSpace { try space.searchSpace(shape: settings.shape) }

    /// What makes two runs measure the same thing: resume and session matching use it. The
    /// sample count, seed, shard and list file only choose *which* architectures, so they are not part of it.
    /// The engine's kernel path is part of it where `MODNAS_KERNELS` lowered it (`kernels=avx2`).
    public func configurationKey() throws -> String {
        let searchSpace = try searchSpace()
        return (["space=\(space)", "batch=\(settings.batch)", "threads=\(threads)", "repeats=\(settings.repeats)",
          "warmup=\(settings.warmup)", "rounds=\(rounds)"]
         + (targetCI > 0 ? ["targetCI=\(targetCI)", "budgetMs=\(budgetMs)"] : [])
         + (runtime == .engine ? (CPUKernels.path < CPUKernels.best ? ["kernels=\(CPUKernels.path)"] : []) : ["runtime=\(runtime)"])
         + ["graph=deployed"] + searchSpace.shapeDescription
         + ["events=\(events.joined(separator: "+"))", "energy=\(energy.rawValue)",
            "pin=\(pinnedCPUs.map { $0.map(String.init).joined(separator: "+") } ?? "none")"])
            .joined(separator: ";")
    }
}

/// Progress of a collection, for a terminal display.
public struct CollectProgress: Sendable {
    public var done: Int
    public var total: Int
    public var current: PlannedArchitecture
    public var round: Int
    public var rounds: Int
    /// Seconds left at the pace so far (nil before the first measurement).
    public var etaSeconds: Double?
}

/// What a collection did, for the closing table.
public struct CollectSummary: Sendable {
    public var device: String
    public var session: String
    public var planned: Int
    public var alreadyStored: Int
    public var measured: Int
    /// Of `measured`, those that had some rounds stored already (a resumed run continues them).
    public var continued: Int
    public var rounds: Int
    public var unstable: Int
    public var medianCV: Double?
    public var events: [EventStatus]
    public var energy: String
    public var featuresPath: String?
    public var warnings: [String]
    /// The session's repeatability check (nil when it was not run).
    public var repeatability: Repeatability?
    public var latency: LatencyClock
    /// The adaptive phase: the target (nil when off), extra rounds run, and of the plan's
    /// architectures in this session how many have their median within the target.
    public var targetCI: Double?
    public var adaptiveRounds: Int
    public var withinTarget: Int
    public var inSession: Int
    /// How wall and CPU time differ in this session (nil without CPU time for 3 architectures).
    public var clockDifference: String?
    /// On a host flagged as shared or virtualised: what that difference means for the latency stored.
    public var clockWarning: String?

    /// The summary as a plain-text table.
    public var table: String {
        var lines = ["device \(device), session \(session)",
                     "architectures: \(planned) planned, \(alreadyStored) already stored, \(measured) measured now"
                        + (continued > 0 ? " (\(continued) of them continued from stored rounds)" : "") + ", \(unstable) unstable",
                     "rounds per architecture: \(rounds) (repetitions spread over \(rounds) visits of the plan)"
                        + (targetCI.map { ", then \(adaptiveRounds) adaptive rounds: \(withinTarget) of \(inSession) architectures have their median within ±\(Self.percent($0)) (95 % bootstrap interval)" }
                           ?? "; adaptive repetitions off (--target-ci 0)"),
                     "latency: \(latency.label) (--latency \(latency.rawValue)); both clocks are stored"
                        + (clockDifference.map { "; \($0)" } ?? ""),
                     "median CV of this run: \(medianCV.map { String(format: "%.3f", $0) } ?? "n/a")",
                     "energy: \(energy)",
                     "counters:"]
        for e in events {
            lines.append("  \(e.name.padding(toLength: 18, withPad: " ", startingAt: 0)) "
                         + (e.supported ? "counted (\(e.privilege ?? "?"))" : "absent: \(e.reason ?? "unsupported")"))
        }
        lines.append("repeatability: " + (repeatability.map { "\($0.count) architectures measured again in a fresh order: \($0.description)" } ?? "not checked (--recheck 0, nothing measured now, or fewer than 3 architectures)"))
        lines.append("device features: \(featuresPath ?? "not written (references incomplete)")")
        return lines.joined(separator: "\n")
    }

    static func percent(_ fraction: Double) -> String { String(format: "%g %%", 100 * fraction) }
}

/// Runs `modnas-profile collect --host`: host check, references, samples, resume, features.
/// Measurements go to a sink round by round; the collector builds no store rows. The sink is
/// opened only once the input is checked, so a refused run creates nothing.
public final class Collector {
    public let options: CollectOptions
    private let openSink: () throws -> MeasurementSink
    private let kernel: KernelInterface

    public init(options: CollectOptions, kernel: KernelInterface = LinuxKernel(), openSink: @escaping () throws -> MeasurementSink) {
        self.options = options
        self.openSink = openSink
        self.kernel = kernel
    }

    /// The device name used when none is given: the host name, lower-cased, with other
    /// characters than letters, digits, '-' and '_' replaced by '_'.
    public static func defaultDeviceName() -> String {
        String(ProcessInfo.processInfo.hostName.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// Measures what the plan holds and the database lacks. `warn` receives host warnings before
    /// measuring; `progress` one report per architecture.
    public func run(warn: (String) -> Void = { _ in }, progress: (CollectProgress) -> Void = { _ in }) throws -> CollectSummary {
        try run(in: try options.searchSpace(), warn: warn, progress: progress)
    }

    private func run<S: SearchSpace>(in space: S, warn: (String) -> Void, progress: (CollectProgress) -> Void) throws -> CollectSummary {
        // Everything that can be wrong with the input fails before anything is measured.
        let events = try EventEncoder.encode(options.events)
        let listed = try options.architectureFile.map { try CollectionPlan.readArchitectureList($0, space: space) } ?? []
        // A runtime is part of the device, and so is a shape a space names it by: this host in
        // ONNX Runtime is <host>-onnxruntime; timing GPT decoding after 256 tokens, <host>-decode256.
        let name = options.device ?? Self.defaultDeviceName() + (options.runtime == .engine ? "" : "-\(options.runtime)") + space.deviceNameSuffix
        try DeviceName.checkMeasured(name, space: options.space, profilesDirectory: options.profilesDirectory, force: options.force)
        let plan = try CollectionPlan.make(space: space, samples: options.samples, seed: options.seed, listed: listed, shard: options.shard)
        try checkMemory(plan.map(\.architecture), in: space)
        if options.runtime != .engine && options.pinnedCPUs != nil {
            throw ProfilingError.runtimeUnavailable("--pin pins the agent's thread, not a runtime's worker; leave it out with --runtime \(options.runtime)")
        }
        let worker = options.runtime == .onnxruntime ? try ONNXRuntimeWorker(threads: options.threads) : nil
        defer { worker?.stop() }
        let sink = try openSink()
        let (meter, energyReason) = try EnergyProbe.meter(mode: options.energy, kernel: kernel)
        if let cpus = options.pinnedCPUs {
            do { try kernel.pin(to: cpus) } catch {
                throw ProfilingError.badCPUList(cpus.map(String.init).joined(separator: ","))
            }
        }
        OpenBLAS.setThreadCount(options.threads)
        let host = HostCheck.fingerprint(kernel: kernel, threads: options.threads)
        host.warnings.forEach(warn)

        let s = options.settings
        let shape = space.networkShape
        let rounds = max(options.rounds, 1)
        let counters = CounterGroups(events: events, kernel: kernel, pid: worker?.processIdentifier ?? 0)
        let runtimeConfiguration = worker.map { w -> [String: String] in
            ["runtime": "onnxruntime", "runtimeVersion": w.version, "runtimeWorker": w.description,
             "executionProvider": "CPUExecutionProvider, intra-op threads \(options.threads), inter-op threads 1, sequential, all graph optimisations",
             "graph": "deployed: batch norm folded, dead branches removed (the exported ONNX model)"]
        } ?? ["runtime": "engine", "graph": "deployed: batch norm folded, dead branches removed", "kernels": CPUKernels.description()]
        let configurationKey = try options.configurationKey()
        let session = try sink.openSession(SessionRequest(
            device: name, host: host, space: options.space.rawValue, configurationKey: configurationKey,
            configuration: ["configKey": configurationKey, "samples": "\(options.samples)", "seed": "\(options.seed)",
                            "networkShape": shape.description,
                            "shard": options.shard.description, "archsFile": options.architectureFile ?? "",
                            "unstableCV": "\(s.unstableCV)",
                            "counterScope": worker.map { "the ONNX Runtime worker (pid \($0.processIdentifier), cpu −1)" } ?? "measuring thread (pid 0, cpu −1)"]
                .merging(runtimeConfiguration) { $1 },
            batch: s.batch, threads: options.threads, repeats: s.repeats, warmup: s.warmup,
            networkShape: shape,
            events: options.events, energyMode: options.energy.rawValue, latencyClock: options.latency,
            identity: ["batch=\(s.batch)"] + space.shapeDescription), events: counters.statuses, rounds: rounds)
        let unsupported = Dictionary(uniqueKeysWithValues: session.events.filter { !$0.supported }.map { ($0.name, $0.reason ?? "unsupported") })

        var done = session.storedRounds
        let complete = plan.filter { done[$0.planned.string, default: 0] >= rounds }.count
        let continued = plan.filter { (1..<rounds).contains(done[$0.planned.string, default: 0]) }.count
        let references = try space.referenceStrings()
        func referencesComplete() -> Bool { references.allSatisfy { done[$0.string, default: 0] >= rounds } }

        var roundSettings = s
        roundSettings.repeats = (s.repeats + rounds - 1) / rounds
        let noise = HostNoiseProbe(kernel: kernel, cpus: host.allowedCPUs,
                                   statusPath: worker.map { "/proc/\($0.processIdentifier)/status" } ?? "/proc/thread-self/status")
        let subjects = SubjectFactory(space: space, worker: worker, batch: s.batch)
        let benchmark = LatencyBenchmark(settings: roundSettings, counters: counters.isCounting ? counters : nil,
                                         energyMeter: meter, energyAbsentReason: energyReason, noise: noise)
        var featuresPath = referencesComplete() ? try writeFeatures(sink, name, references) : nil
        let total = plan.reduce(0) { $0 + max(0, rounds - done[$1.planned.string, default: 0]) }
        var finished = 0
        let start = Stopwatch.now()
        for round in 1...rounds {
            for (planned, architecture) in plan where done[planned.string, default: 0] < round {
                let elapsed = Double(Stopwatch.now() - start) / 1e9
                progress(CollectProgress(done: finished, total: total, current: planned, round: round, rounds: rounds,
                                         etaSeconds: finished == 0 ? nil : elapsed / Double(finished) * Double(total - finished)))
                let m = try benchmark.measure(subjects.subject(architecture))
                try sink.append(Self.round(m, planned, round: round, requested: options.events, unsupported: unsupported), to: session)
                done[planned.string] = round
                finished += 1
                if featuresPath == nil && planned.role == "reference" && referencesComplete() {
                    featuresPath = try writeFeatures(sink, name, references)
                }
            }
        }
        let adaptive = try adaptiveRounds(plan.map { ($0.planned, $0.architecture) }, subjects: subjects, sink: sink, session: session,
                                          benchmark: benchmark, done: &done, unsupported: unsupported)
        let repeatability = finished + adaptive.rounds > 0 ? try recheck(plan.map { ($0.planned.string, $0.architecture) }, subjects: subjects, sink: sink, session: session) : nil
        let summary = try sink.summary(of: session, architectures: Set(plan.map(\.planned.string)))
        let difference = try clockDifference(sink, session, plan.map(\.planned.string))
        // A source is named only if it measured something: a meter whose every value came out
        // absent (a counter that never moved, say) is reported with the stored reason.
        let energyText: String
        if let meter, summary.energyMeasured {
            energyText = "\(meter.source) (\(meter.domains.joined(separator: " + ")))"
        } else {
            energyText = "absent: \(summary.energyAbsentReason ?? energyReason ?? "no source")"
        }
        return CollectSummary(device: name, session: session.uuid, planned: plan.count, alreadyStored: complete,
                              measured: plan.count - complete, continued: continued, rounds: rounds, unstable: summary.unstable,
                              medianCV: summary.coefficientsOfVariation.isEmpty ? nil : SampleStatistics(summary.coefficientsOfVariation).median,
                              events: counters.statuses, energy: energyText, featuresPath: try writeFeatures(sink, name, references) ?? featuresPath,
                              warnings: host.warnings, repeatability: repeatability, latency: options.latency,
                              targetCI: options.targetCI > 0 ? options.targetCI : nil, adaptiveRounds: adaptive.rounds,
                              withinTarget: adaptive.within, inSession: adaptive.inSession,
                              clockDifference: difference,
                              clockWarning: HostCheck.isShared(host) ? difference.map(clockWarning) : nil)
    }

    /// Refuses a plan whose largest network (by the space's estimate) needs more memory than the
    /// host has available, before anything is measured.
    private func checkMemory<S: SearchSpace>(_ architectures: [S.Architecture], in space: S) throws {
        guard let available = HostCheck.availableMemoryBytes(kernel: kernel) else { return }
        // ONNX Runtime holds the weights again in its worker, beside the engine's copy it was exported from.
        let factor = options.runtime == .engine ? 1.0 : 2.0
        let needs = architectures.compactMap { a in space.deployedMemoryBytes(of: a, batch: options.settings.batch).map { (a, factor * $0) } }
        guard let largest = needs.max(by: { $0.1 < $1.1 }), largest.1 > available else { return }
        throw ProfilingError.tooLargeForHost(architecture: space.string(of: largest.0), neededBytes: largest.1, availableBytes: available,
                                             setting: "batch \(options.settings.batch), " + space.shapeDescription.joined(separator: ", "))
    }

    /// What the clocks' `difference` means for the latency stored on a shared or virtualised host.
    private func clockWarning(_ difference: String) -> String {
        let (meaning, other) = options.latency == .wall
            ? ("wall time (the latency stored) includes the time it gave to other work", LatencyClock.cpu)
            : ("CPU time (the latency stored) leaves out the time it gave to other work, which a user of this host waits too", LatencyClock.wall)
        return "this host is shared or virtualised, and \(meaning): \(difference); --latency \(other.rawValue) switches (both clocks are stored)"
    }

    /// While some architecture of the session with budget left has its median outside ±`targetCI`,
    /// visits every architecture with budget left once more, round by round over the plan. Returns
    /// the rounds run and, of the plan's architectures in the session, how many are within.
    private func adaptiveRounds<S: SearchSpace>(_ plan: [(planned: PlannedArchitecture, architecture: S.Architecture)], subjects: SubjectFactory<S>,
                                                sink: MeasurementSink, session: MeasurementSession, benchmark: LatencyBenchmark,
                                                done: inout [String: Int], unsupported: [String: String])
        throws -> (rounds: Int, within: Int, inSession: Int) {
        guard options.targetCI > 0 else { return (0, 0, 0) }
        let cap = CollectOptions.repetitionCapFactor * options.settings.repeats
        var rng = SeededGenerator(seed: options.seed &+ 0xB007)
        var rounds = 0
        while true {
            let stored = try sink.repetitions(of: session, architectures: plan.map(\.planned.string))
            var within = 0, inSession = 0
            var open: [(planned: PlannedArchitecture, architecture: S.Architecture)] = []
            var outside = false
            for p in plan {
                guard let r = stored[p.planned.string] else { continue }
                inSession += 1
                let values = options.latency == .wall ? r.wall : r.cpu.compactMap { $0 }
                let reached = !values.isEmpty && SampleStatistics.medianIntervalRelativeHalfWidth(values, using: &rng) <= options.targetCI
                if reached { within += 1 }
                guard r.wall.reduce(0, +) < options.budgetMs, r.wall.count < cap else { continue }
                open.append(p)
                outside = outside || !reached
            }
            // While one architecture with budget left misses the target, all with budget left are
            // visited: extra rounds for some only would give them other periods of a drifting host.
            let due = outside ? open : []
            guard !due.isEmpty else { return (rounds, within, inSession) }
            rounds += 1
            for (planned, architecture) in due {
                let m = try benchmark.measure(subjects.subject(architecture))
                let round = done[planned.string, default: 0] + 1
                try sink.append(Self.round(m, planned, round: round, requested: options.events, unsupported: unsupported), to: session)
                done[planned.string] = round
            }
        }
    }

    /// How wall and CPU time differ over the plan's architectures in this session (nil with
    /// fewer than 3 that have both).
    private func clockDifference(_ sink: MeasurementSink, _ session: MeasurementSession, _ strings: [String]) throws -> String? {
        let medians = try sink.medians(of: session, architectures: strings).values.compactMap { m in m.cpu.map { (m.wall, $0) } }
        guard medians.count >= 3 else { return nil }
        let excess = SampleStatistics(medians.map { $0.0 / $0.1 - 1 }).median
        let rho = RankCorrelation.spearman(medians.map(\.0), medians.map(\.1))
        return String(format: "in this session wall time is %.1f %% %@ CPU time (the median over %d architectures), and the two rank them with Spearman %.3f",
                      100 * abs(excess), excess >= 0 ? "above" : "below", medians.count, rho)
    }

    /// Measures a seeded subset of the plan once more, in a fresh order, with all of a session's
    /// repetitions in one visit, and stores how its medians agree with the stored ones.
    private func recheck<S: SearchSpace>(_ plan: [(string: String, architecture: S.Architecture)], subjects: SubjectFactory<S>, sink: MeasurementSink,
                                         session: MeasurementSession) throws -> Repeatability? {
        let size = Repeatability.subsetSize(planned: plan.count, percent: options.recheckPercent)
        guard size > 0 else { return nil }
        var rng = SeededGenerator(seed: options.seed &+ 0x5EED_C4EC)
        var order = Array(plan.indices)
        rng.shuffle(&order)
        let subset = order.prefix(size).map { plan[$0] }
        let stored = try sink.medians(of: session, architectures: subset.map(\.string))
        let benchmark = LatencyBenchmark(settings: options.settings, counters: nil, energyMeter: nil, energyAbsentReason: "not measured in the check")
        var again: [String: (wall: Double, cpu: Double?)] = [:]
        for (string, architecture) in subset where stored[string] != nil {
            let m = try benchmark.measure(subjects.subject(architecture))
            again[string] = (m.statistics.median, SampleStatistics(m.cpuRepetitionsMs).median)
        }
        guard let check = Repeatability.between(stored, again) else { return nil }
        try sink.record(check, for: session)
        return check
    }

    /// Makes what is timed of an architecture (weights of seed 0): its deployed graph, in the
    /// engine or exported and loaded in the runtime's worker.
    struct SubjectFactory<S: SearchSpace> {
        let space: S
        let worker: ONNXRuntimeWorker?
        let batch: Int

        func subject(_ architecture: S.Architecture) throws -> TimedSubject {
            guard let worker else {
                var rng = SeededGenerator(seed: 0)
                let network = DeployedNetwork(space.makeNetwork(architecture, seed: 0).inferenceGraph(batch: batch))
                return EngineSubject(network: network, input: network.sampleInput(batch: batch, using: &rng))
            }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("modnas-collect-\(UUID().uuidString).onnx").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try ONNXModel.write(NetworkExport.graph(architecture, space: space, seed: 0, batch: batch), graphName: "modnas-\(space.name)",
                                docString: space.string(of: architecture), to: path)
            try worker.load(path)
            return RuntimeSubject(worker: worker)
        }
    }

    /// Writes the device's feature file of this space once all references are stored; nil until then.
    private func writeFeatures(_ sink: MeasurementSink, _ device: String, _ references: [(index: Int, string: String)]) throws -> String? {
        try sink.completeFeatures(device: device, space: options.space.rawValue, references: references)
            .map { try $0.write(toDirectory: options.profilesDirectory, force: options.force) }
    }

    /// One round of `planned` as the sink takes it: every requested event counted, or absent
    /// with the reason (unsupported on this host, or never scheduled during the window).
    static func round(_ m: ArchitectureMeasurement, _ planned: PlannedArchitecture, round: Int, requested: [String],
                      unsupported: [String: String]) -> RoundMeasurement {
        var counters: [String: CounterWindow] = [:]
        for event in requested {
            if let r = m.counters[event], let v = r.value {
                counters[event] = .counted(total: v, passes: m.countedPasses, timeEnabledNs: r.timeEnabledNs,
                                           timeRunningNs: r.timeRunningNs, scaled: r.scaled)
            } else {
                counters[event] = .absent(reason: unsupported[event] ?? (m.counters[event] != nil
                    ? "never scheduled on the PMU during a window (multiplexed out)" : "not counted in this session"))
            }
        }
        return RoundMeasurement(architecture: planned.string, index: planned.index, role: planned.role, round: round,
                                repetitionsMs: m.repetitionsMs, cpuRepetitionsMs: m.cpuRepetitionsMs, attempts: m.attempts, unstable: m.unstable,
                                counters: counters, energy: m.energy, noise: m.noise)
    }
}
