import Autodiff
import Foundation
import ProfileStore
import SearchSpaces

/// The options of `modnas-profile collect --host`.
public struct CollectOptions: Sendable {
    public var databasePath = "profiles.sqlite"
    public var space = "nb201"
    public var samples = 20
    public var architectureFile: String?
    public var settings = MeasurementSettings()
    public var threads = 1
    public var events = EventEncoder.defaultEvents
    public var energy = EnergyMode.auto
    /// Device name; the host name when nil.
    public var device: String?
    public var profilesDirectory = "Profiles"
    public var shard = Shard.whole
    public var seed: UInt64 = 0
    /// CPUs to pin the measuring thread to (nil: no pinning).
    public var pinnedCPUs: [Int]?

    public init() {}

    /// What makes two runs measure the same thing: resume and session matching use it. The
    /// sample count, seed, shard and list file only choose *which* architectures, so they are not part of it.
    public var configurationKey: String {
        let s = settings.shape
        return ["space=\(space)", "batch=\(settings.batch)", "threads=\(threads)", "repeats=\(settings.repeats)",
                "warmup=\(settings.warmup)", "channels=\(s.channels)", "cells=\(s.cellsPerStage)",
                "resolution=\(s.resolution)", "inputChannels=\(s.inputChannels)", "classes=\(s.classes)",
                "events=\(events.joined(separator: "+"))", "energy=\(energy.rawValue)",
                "pin=\(pinnedCPUs.map { $0.map(String.init).joined(separator: "+") } ?? "none")"]
            .joined(separator: ";")
    }
}

/// Progress of a collection, for a terminal display.
public struct CollectProgress: Sendable {
    public var done: Int
    public var total: Int
    public var current: PlannedArchitecture
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
    public var unstable: Int
    public var medianCV: Double?
    public var events: [EventStatus]
    public var energy: String
    public var featuresPath: String?
    public var warnings: [String]

    /// The summary as a plain-text table.
    public var table: String {
        var lines = ["device \(device), session \(session)",
                     "architectures: \(planned) planned, \(alreadyStored) already stored, \(measured) measured now, \(unstable) unstable",
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
        // Everything that can be wrong with the input fails before anything is measured.
        let events = try EventEncoder.encode(options.events)
        let listed = try options.architectureFile.map(CollectionPlan.readArchitectureList) ?? []
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

        let name = options.device ?? Self.defaultDeviceName()
        let device = try database.upsertDevice(name: name, source: .measured, fingerprint: host)
        let s = options.settings
        let configuration = try String(decoding: JSONEncoder().encode([
            "configKey": options.configurationKey, "samples": "\(options.samples)", "seed": "\(options.seed)",
            "shard": options.shard.description, "archsFile": options.architectureFile ?? "",
            "unstableCV": "\(s.unstableCV)", "counterScope": "measuring thread (pid 0, cpu −1)",
        ]), as: UTF8.self)
        let session = try database.session(matching: SessionRecord(
            id: nil, uuid: UUID().uuidString.lowercased(), deviceId: device.id!, kind: .measured, space: options.space,
            configKey: options.configurationKey, configuration: configuration, batch: s.batch, threads: options.threads,
            repeats: s.repeats, warmup: s.warmup, channels: s.shape.channels, cells: s.shape.cellsPerStage,
            resolution: s.shape.resolution, events: String(decoding: try JSONEncoder().encode(options.events), as: UTF8.self),
            energyMode: options.energy.rawValue, host: String(decoding: try JSONEncoder().encode(host), as: UTF8.self),
            startedAt: Date()))

        let counters = CounterGroups(events: events, kernel: kernel)
        try database.recordEvents(counters.statuses.map {
            SessionEventRecord(sessionId: session.id!, event: $0.name, supported: $0.supported, privilege: $0.privilege,
                               reason: $0.reason, encoding: $0.encoding)
        })
        let statuses = try database.events(sessionId: session.id!)
        let unsupported = Dictionary(uniqueKeysWithValues: statuses.filter { !$0.supported }.map { ($0.event, $0.reason ?? "unsupported") })

        let index = try NB201Index.shipped()
        let plan = try CollectionPlan.make(index: index, samples: options.samples, seed: options.seed, listed: listed, shard: options.shard)
        let stored = try database.storedArchitectures(deviceId: device.id!, configKey: options.configurationKey)
        let todo = plan.filter { !stored.contains($0.architecture.string) }
        let references = try CollectionPlan.references()

        let benchmark = LatencyBenchmark(settings: s, counters: counters.isCounting ? counters : nil,
                                         energyMeter: meter, energyAbsentReason: energyReason)
        var cvs: [Double] = [], unstable = 0
        var featuresPath = try writeFeatures(database, name, references)
        let start = Stopwatch.now()
        for (k, planned) in todo.enumerated() {
            let elapsed = Double(Stopwatch.now() - start) / 1e9
            progress(CollectProgress(done: k, total: todo.count, current: planned,
                                     etaSeconds: k == 0 ? nil : elapsed / Double(k) * Double(todo.count - k)))
            let m = try benchmark.measure(planned.architecture)
            try database.save(record(m, planned, sessionId: session.id!, requested: options.events, unsupported: unsupported),
                              space: options.space)
            cvs.append(m.statistics.coefficientOfVariation)
            if m.unstable { unstable += 1 }
            if planned.role == "reference" && featuresPath == nil { featuresPath = try writeFeatures(database, name, references) }
        }
        if featuresPath == nil { featuresPath = try writeFeatures(database, name, references) }
        let energyText: String
        if let meter { energyText = "\(meter.source) (\(meter.domains.joined(separator: " + ")))" } else {
            energyText = "absent: \(energyReason ?? "no source")"
        }
        return CollectSummary(device: name, session: session.uuid, planned: plan.count, alreadyStored: plan.count - todo.count,
                              measured: todo.count, unstable: unstable,
                              medianCV: cvs.isEmpty ? nil : SampleStatistics(cvs).median,
                              events: counters.statuses, energy: energyText, featuresPath: featuresPath, warnings: host.warnings)
    }

    /// Writes Profiles/<device>.json once all references are stored; nil until then.
    private func writeFeatures(_ database: ProfileDatabase, _ device: String,
                               _ references: [(index: Int, architecture: NB201Architecture)]) throws -> String? {
        do {
            let features = try database.features(device: device, space: options.space,
                                                 references: references.map { ($0.index, $0.architecture.string) })
            return try features.write(toDirectory: options.profilesDirectory)
        } catch StoreError.incompleteReferences {
            return nil
        }
    }

    /// The database rows of one measured architecture.
    private func record(_ m: ArchitectureMeasurement, _ planned: PlannedArchitecture, sessionId: Int64,
                        requested: [String], unsupported: [String: String]) throws -> ArchitectureResult {
        let st = m.statistics
        let measurement = MeasurementRecord(
            id: nil, sessionId: sessionId, architectureId: 0, role: planned.role, label: .measured,
            repetitionsMs: String(decoding: try JSONEncoder().encode(m.repetitionsMs), as: UTF8.self),
            repetitionCount: m.repetitionsMs.count, medianMs: st.median, meanMs: st.mean, p10Ms: st.p10, p90Ms: st.p90,
            madMs: st.medianAbsoluteDeviation, cv: st.coefficientOfVariation, minMs: st.minimum, attempts: m.attempts,
            unstable: m.unstable, measuredAt: Date())
        let counters: [CounterValueRecord] = requested.map { event in
            if let r = m.counters[event], let v = r.value {
                return CounterValueRecord(measurementId: 0, event: event, perInference: v / Double(m.countedPasses), total: v,
                                          timeEnabledNs: Int64(r.timeEnabledNs), timeRunningNs: Int64(r.timeRunningNs),
                                          scaled: r.scaled, absentReason: nil)
            }
            let reason = unsupported[event] ?? (m.counters[event] != nil
                ? "never scheduled on the PMU during the window (multiplexed out)" : "not counted in this session")
            return CounterValueRecord(measurementId: 0, event: event, perInference: nil, total: nil, timeEnabledNs: nil,
                                      timeRunningNs: nil, scaled: nil, absentReason: reason)
        }
        let energy: EnergyRecord
        switch m.energy {
        case .measured(let j, let source, let domains, let windowMs, let passes):
            energy = EnergyRecord(measurementId: 0, joulesPerInference: j, source: source,
                                  domains: String(decoding: try JSONEncoder().encode(domains), as: UTF8.self),
                                  windowMs: windowMs, passes: passes, absentReason: nil)
        case .absent(let reason):
            energy = EnergyRecord(measurementId: 0, joulesPerInference: nil, source: "none", domains: nil, windowMs: nil,
                                  passes: nil, absentReason: reason)
        }
        return ArchitectureResult(architectureString: planned.architecture.string, architectureIndex: planned.index,
                                  measurement: measurement, counters: counters, energy: energy)
    }
}
