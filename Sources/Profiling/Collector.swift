import Autodiff
import DeviceModel
import Foundation
import ProfileStore
import SearchSpaces

/// The options of `modnas-profile collect --host`.
public struct CollectOptions: Sendable {
    public var databasePath = "profiles.sqlite"
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

    public init() {}

    /// The space measured: NB201 at `settings.shape`, or another space with its fixed shape.
    public var searchSpace: any SearchSpace { space == .nb201 ? NB201Space(shape: settings.shape) : space.space }

    /// What makes two runs measure the same thing: resume and session matching use it. The
    /// sample count, seed, shard and list file only choose *which* architectures, so they are not part of it.
    public var configurationKey: String {
        (["space=\(space)", "batch=\(settings.batch)", "threads=\(threads)", "repeats=\(settings.repeats)",
          "warmup=\(settings.warmup)", "rounds=\(rounds)"] + searchSpace.shapeDescription
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

    /// The summary as a plain-text table.
    public var table: String {
        var lines = ["device \(device), session \(session)",
                     "architectures: \(planned) planned, \(alreadyStored) already stored, \(measured) measured now"
                        + (continued > 0 ? " (\(continued) of them continued from stored rounds)" : "") + ", \(unstable) unstable",
                     "rounds per architecture: \(rounds) (repetitions spread over \(rounds) visits of the plan)",
                     "median CV of this run: \(medianCV.map { String(format: "%.3f", $0) } ?? "n/a")",
                     "energy: \(energy)",
                     "counters:"]
        for e in events {
            lines.append("  \(e.name.padding(toLength: 18, withPad: " ", startingAt: 0)) "
                         + (e.supported ? "counted (\(e.privilege ?? "?"))" : "absent: \(e.reason ?? "unsupported")"))
        }
        lines.append("device features: \(featuresPath ?? "not written (references incomplete)")")
        return lines.joined(separator: "\n")
    }
}

/// Runs `modnas-profile collect --host`: host check, references, samples, resume, features.
public final class Collector {
    public let options: CollectOptions
    private let kernel: KernelInterface

    public init(options: CollectOptions, kernel: KernelInterface = LinuxKernel()) {
        self.options = options
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
        try run(in: options.searchSpace, warn: warn, progress: progress)
    }

    private func run<S: SearchSpace>(in space: S, warn: (String) -> Void, progress: (CollectProgress) -> Void) throws -> CollectSummary {
        // Everything that can be wrong with the input fails before anything is measured.
        let events = try EventEncoder.encode(options.events)
        let listed = try options.architectureFile.map { try CollectionPlan.readArchitectureList($0, space: space) } ?? []
        let name = options.device ?? Self.defaultDeviceName()
        try DeviceName.checkMeasured(name, space: options.space, profilesDirectory: options.profilesDirectory, force: options.force)
        let database = try ProfileDatabase(path: options.databasePath)
        let (meter, energyReason) = try EnergyProbe.meter(mode: options.energy, kernel: kernel)
        if let cpus = options.pinnedCPUs {
            do { try kernel.pin(to: cpus) } catch {
                throw ProfilingError.badCPUList(cpus.map(String.init).joined(separator: ","))
            }
        }
        OpenBLAS.setThreadCount(options.threads)
        let host = HostCheck.fingerprint(kernel: kernel, threads: options.threads)
        host.warnings.forEach(warn)

        let device = try database.upsertDevice(name: name, source: .measured, fingerprint: host)
        let s = options.settings
        let configuration = try String(decoding: JSONEncoder().encode([
            "configKey": options.configurationKey, "samples": "\(options.samples)", "seed": "\(options.seed)",
            "shard": options.shard.description, "archsFile": options.architectureFile ?? "",
            "unstableCV": "\(s.unstableCV)", "counterScope": "measuring thread (pid 0, cpu −1)",
        ]), as: UTF8.self)
        let nb201 = options.space == .nb201
        let session = try database.session(matching: SessionRecord(
            id: nil, uuid: UUID().uuidString.lowercased(), deviceId: device.id!, kind: .measured, space: options.space.rawValue,
            configKey: options.configurationKey, configuration: configuration, batch: s.batch, threads: options.threads,
            repeats: s.repeats, warmup: s.warmup, channels: nb201 ? s.shape.channels : nil, cells: nb201 ? s.shape.cellsPerStage : nil,
            resolution: nb201 ? s.shape.resolution : nil, events: String(decoding: try JSONEncoder().encode(options.events), as: UTF8.self),
            energyMode: options.energy.rawValue, host: String(decoding: try JSONEncoder().encode(host), as: UTF8.self),
            startedAt: Date()))

        let counters = CounterGroups(events: events, kernel: kernel)
        try database.recordEvents(counters.statuses.map {
            SessionEventRecord(sessionId: session.id!, event: $0.name, supported: $0.supported, privilege: $0.privilege,
                               reason: $0.reason, encoding: $0.encoding)
        })
        let statuses = try database.events(sessionId: session.id!)
        let unsupported = Dictionary(uniqueKeysWithValues: statuses.filter { !$0.supported }.map { ($0.event, $0.reason ?? "unsupported") })

        let plan = try CollectionPlan.make(space: space, samples: options.samples, seed: options.seed, listed: listed, shard: options.shard)
        let rounds = max(options.rounds, 1)
        // Progress is this session's own rounds; an architecture complete in another session of
        // the same configuration (e.g. merged from elsewhere) is not measured again.
        var done = try database.storedRounds(sessionId: session.id!)
        for (arch, r) in try database.storedRounds(deviceId: device.id!, configKey: options.configurationKey) where r >= rounds {
            done[arch] = rounds
        }
        let complete = plan.filter { done[$0.planned.string, default: 0] >= rounds }.count
        let continued = plan.filter { (1..<rounds).contains(done[$0.planned.string, default: 0]) }.count
        let references = try CollectionPlan.referenceStrings(of: space)
        func referencesComplete() -> Bool { references.allSatisfy { done[$0.string, default: 0] >= rounds } }

        var roundSettings = s
        roundSettings.repeats = (s.repeats + rounds - 1) / rounds
        let benchmark = LatencyBenchmark(settings: roundSettings, counters: counters.isCounting ? counters : nil,
                                         energyMeter: meter, energyAbsentReason: energyReason)
        var featuresPath = referencesComplete() ? try writeFeatures(database, name, references) : nil
        let total = plan.reduce(0) { $0 + max(0, rounds - done[$1.planned.string, default: 0]) }
        var finished = 0
        let start = Stopwatch.now()
        for round in 1...rounds {
            for (planned, architecture) in plan where done[planned.string, default: 0] < round {
                let elapsed = Double(Stopwatch.now() - start) / 1e9
                progress(CollectProgress(done: finished, total: total, current: planned, round: round, rounds: rounds,
                                         etaSeconds: finished == 0 ? nil : elapsed / Double(finished) * Double(total - finished)))
                let m = try benchmark.measure(space.makeNetwork(architecture, seed: 0))
                try database.update(sessionId: session.id!, space: options.space.rawValue, architectureString: planned.string,
                                    architectureIndex: planned.index) { existing in
                    // Another agent on the same database may have stored this round meanwhile.
                    guard (existing?.measurement.rounds ?? 0) < round else { return nil }
                    return try Self.combine(existing, m, planned, requested: options.events, unsupported: unsupported)
                }
                done[planned.string] = round
                finished += 1
                if featuresPath == nil && planned.role == "reference" && referencesComplete() {
                    featuresPath = try writeFeatures(database, name, references)
                }
            }
        }
        let stored = try database.exportRows(device: name).filter { $0.session == session.uuid }
        let inPlan = Set(plan.map(\.planned.string))
        let rows = stored.filter { inPlan.contains($0.arch_string) }
        // A source is named only if it measured something: a meter whose every value came out
        // absent (a counter that never moved, say) is reported with the stored reason.
        let energyText: String
        if let meter, rows.contains(where: { $0.energy_j_per_inference != nil }) {
            energyText = "\(meter.source) (\(meter.domains.joined(separator: " + ")))"
        } else {
            energyText = "absent: \(rows.lazy.compactMap(\.energy_absent_reason).first ?? energyReason ?? "no source")"
        }
        return CollectSummary(device: name, session: session.uuid, planned: plan.count, alreadyStored: complete,
                              measured: plan.count - complete, continued: continued, rounds: rounds, unstable: rows.filter(\.unstable).count,
                              medianCV: rows.compactMap(\.cv).isEmpty ? nil : SampleStatistics(rows.compactMap(\.cv)).median,
                              events: counters.statuses, energy: energyText, featuresPath: try featuresPath ?? writeFeatures(database, name, references),
                              warnings: host.warnings)
    }

    /// Writes the device's feature file of this space once all references are stored; nil until then.
    private func writeFeatures(_ database: ProfileDatabase, _ device: String,
                               _ references: [(index: Int, string: String)]) throws -> String? {
        do {
            let features = try database.features(device: device, space: options.space.rawValue, references: references)
            return try features.write(toDirectory: options.profilesDirectory, force: options.force)
        } catch StoreError.incompleteReferences {
            return nil
        }
    }

    /// The rows of an architecture after one more round: repetitions appended and statistics
    /// recomputed over all of them; counters and energy summed over the passes of every round,
    /// and absent (with the reason) when any round could not measure them.
    static func combine(_ existing: StoredMeasurement?, _ m: ArchitectureMeasurement, _ planned: PlannedArchitecture,
                        requested: [String], unsupported: [String: String]) throws -> ArchitectureResult {
        let previous = try existing?.measurement.repetitionsMs.map { try JSONDecoder().decode([Double].self, from: Data($0.utf8)) } ?? []
        let repetitions = previous + m.repetitionsMs
        let st = SampleStatistics(repetitions)
        let measurement = MeasurementRecord(
            sessionId: 0, architectureId: 0, role: existing?.measurement.role ?? planned.role, label: .measured,
            repetitionsMs: String(decoding: try JSONEncoder().encode(repetitions), as: UTF8.self),
            repetitionCount: repetitions.count, medianMs: st.median, meanMs: st.mean, p10Ms: st.p10, p90Ms: st.p90,
            madMs: st.medianAbsoluteDeviation, cv: st.coefficientOfVariation, minMs: st.minimum,
            attempts: max(existing?.measurement.attempts ?? 1, m.attempts), rounds: (existing?.measurement.rounds ?? 0) + 1,
            unstable: (existing?.measurement.unstable ?? false) || m.unstable, measuredAt: Date())
        let counters: [CounterValueRecord] = requested.map { event in
            let old = existing?.counters.first { $0.event == event }
            if let r = m.counters[event], let v = r.value, old == nil || old?.total != nil {
                let total = (old?.total ?? 0) + v, passes = (old?.passes ?? 0) + m.countedPasses
                return CounterValueRecord(measurementId: 0, event: event, perInference: total / Double(passes), total: total,
                                          passes: passes, timeEnabledNs: (old?.timeEnabledNs ?? 0) + Int64(r.timeEnabledNs),
                                          timeRunningNs: (old?.timeRunningNs ?? 0) + Int64(r.timeRunningNs),
                                          scaled: (old?.scaled ?? false) || r.scaled)
            }
            let reason = old?.absentReason ?? unsupported[event] ?? (m.counters[event] != nil
                ? "never scheduled on the PMU during a window (multiplexed out)" : "not counted in this session")
            return CounterValueRecord(measurementId: 0, event: event, absentReason: reason)
        }
        let energy: EnergyRecord
        switch (m.energy, existing?.energy) {
        case (.measured(let j, let source, let domains, let windowMs, let passes), let old)
            where old == nil || old?.joulesPerInference != nil:
            let oldPasses = old?.passes ?? 0
            let joules = (old?.joulesPerInference ?? 0) * Double(oldPasses) + j * Double(passes)
            energy = EnergyRecord(measurementId: 0, joulesPerInference: joules / Double(oldPasses + passes), source: source,
                                  domains: String(decoding: try JSONEncoder().encode(domains), as: UTF8.self),
                                  windowMs: (old?.windowMs ?? 0) + windowMs, passes: oldPasses + passes)
        case (.absent(let reason), let old):
            energy = EnergyRecord(measurementId: 0, source: "none", absentReason: old?.absentReason ?? reason)
        case (.measured, let old):
            energy = EnergyRecord(measurementId: 0, source: "none", absentReason: old?.absentReason ?? "absent in an earlier round")
        }
        return ArchitectureResult(architectureString: planned.string, architectureIndex: planned.index,
                                  measurement: measurement, counters: counters, energy: energy)
    }
}
