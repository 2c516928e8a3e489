import DeviceModel
import Foundation
import GRDB
import Measurements
import Statistics

/// The store as the profiler's sink: sessions, rounds combined into measurement rows, features.
extension ProfileDatabase: MeasurementSink {
    public func openSession(_ r: SessionRequest, events: [EventStatus], rounds: Int) throws -> MeasurementSession {
        try checkSetting(of: r)
        let device = try upsertDevice(name: r.device, source: .measured, fingerprint: r.host)
        let session = try self.session(matching: SessionRecord(
            id: nil, uuid: UUID().uuidString.lowercased(), deviceId: device.id!, kind: .measured, space: r.space,
            configKey: r.configurationKey, configuration: try Self.json(r.configuration), batch: r.batch, threads: r.threads,
            repeats: r.repeats, warmup: r.warmup, networkShape: r.networkShape.parameters.isEmpty ? nil : r.networkShape.description,
            events: try Self.json(r.events), energyMode: r.energyMode, host: try Self.json(r.host), startedAt: Date(),
            latencyClock: r.latencyClock))
        // A resumed session reads its latency from the clock of the latest run (both are stored).
        try writer.write { db in
            try db.execute(sql: "UPDATE session SET latencyClock = ? WHERE id = ?", arguments: [r.latencyClock.rawValue, session.id])
        }
        try recordEvents(events.map {
            SessionEventRecord(sessionId: session.id!, event: $0.name, supported: $0.supported, privilege: $0.privilege,
                               reason: $0.reason, encoding: $0.encoding)
        })
        let stored = try self.events(sessionId: session.id!).map {
            EventStatus(name: $0.event, encoding: $0.encoding ?? $0.event, supported: $0.supported, privilege: $0.privilege, reason: $0.reason)
        }
        // Progress is the session's own rounds; an architecture complete in another session of
        // the same configuration (e.g. merged from elsewhere) is not measured again.
        var done = try storedRounds(sessionId: session.id!)
        for (arch, n) in try storedRounds(deviceId: device.id!, configKey: r.configurationKey) where n >= rounds { done[arch] = rounds }
        return MeasurementSession(id: session.id!, uuid: session.uuid, space: r.space, storedRounds: done, events: stored)
    }

    /// Refuses a request whose identity items differ from those of the device's stored sessions in
    /// its space (an item a stored key lacks, as keys of older versions may, is not compared).
    private func checkSetting(of r: SessionRequest) throws {
        func items(_ key: String) -> [String: String] {
            Dictionary(key.split(separator: ";").map { item -> (String, String) in
                let parts = item.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }) { first, _ in first }
        }
        let requested = items(r.identity.joined(separator: ";"))
        let keys = try writer.read { db in
            try String.fetchAll(db, sql: "SELECT s.configKey FROM session s JOIN device d ON d.id = s.deviceId WHERE d.name = ? AND s.space = ?",
                                arguments: [r.device, r.space])
        }
        for key in keys {
            let stored = items(key)
            let differing = requested.keys.sorted().filter { stored[$0] != nil && stored[$0] != requested[$0] }
            if !differing.isEmpty {
                throw StoreError.otherSetting(device: r.device, space: r.space,
                                              stored: differing.map { "\($0)=\(stored[$0]!)" }.joined(separator: ", "),
                                              requested: differing.map { "\($0)=\(requested[$0]!)" }.joined(separator: ", "))
            }
        }
    }

    @discardableResult
    public func append(_ round: RoundMeasurement, to session: MeasurementSession) throws -> Bool {
        var appended = false
        try update(sessionId: session.id, space: session.space, architectureString: round.architecture, architectureIndex: round.index) { existing in
            // Another agent on the same database may have stored this round meanwhile.
            guard (existing?.measurement.rounds ?? 0) < round.round else { return nil }
            appended = true
            return Self.combine(existing, round)
        }
        return appended
    }

    public func completeFeatures(device: String, space: String, references: [(index: Int, string: String)]) throws -> DeviceFeatures? {
        do { return try features(device: device, space: space, references: references) } catch StoreError.incompleteReferences {
            return nil
        }
    }

    public func medians(of session: MeasurementSession, architectures: [String]) throws -> [String: (wall: Double, cpu: Double?)] {
        let wanted = Set(architectures)
        return try writer.read { db in
            var out: [String: (wall: Double, cpu: Double?)] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT a.archString, m.medianMs, m.cpuMedianMs FROM measurement m JOIN architecture a ON a.id = m.architectureId
                WHERE m.sessionId = ?
                """, arguments: [session.id]) where wanted.contains(r["archString"]) {
                out[r["archString"]] = (r["medianMs"], r["cpuMedianMs"])
            }
            return out
        }
    }

    public func repetitions(of session: MeasurementSession, architectures: [String]) throws -> [String: (wall: [Double], cpu: [Double?])] {
        let wanted = Set(architectures)
        return try writer.read { db in
            var out: [String: (wall: [Double], cpu: [Double?])] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT a.archString, r.ms, r.cpuMs FROM measurement m JOIN architecture a ON a.id = m.architectureId
                JOIN repetition r ON r.measurementId = m.id WHERE m.sessionId = ? ORDER BY m.id, r.ordinal
                """, arguments: [session.id]) where wanted.contains(r["archString"]) {
                out[r["archString"], default: ([], [])].wall.append(r["ms"])
                out[r["archString"], default: ([], [])].cpu.append(r["cpuMs"])
            }
            return out
        }
    }

    public func record(_ repeatability: Repeatability, for session: MeasurementSession) throws {
        let text = try Self.json(repeatability)
        try writer.write { db in
            try db.execute(sql: "UPDATE session SET repeatability = ? WHERE id = ?", arguments: [text, session.id])
        }
    }

    /// The device's median wall and CPU time (ms) per architecture of `space`, from its latest
    /// session holding the architecture.
    public func latestMedians(device name: String, space: String) throws -> [String: (wall: Double, cpu: Double?)] {
        let device = try self.device(named: name)
        return try writer.read { db in
            var out: [String: (wall: Double, cpu: Double?)] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT a.archString, m.medianMs, m.cpuMedianMs FROM measurement m JOIN session s ON s.id = m.sessionId
                JOIN architecture a ON a.id = m.architectureId WHERE s.deviceId = ? AND a.space = ? ORDER BY s.id
                """, arguments: [device.id, space]) {
                out[r["archString"]] = (r["medianMs"], r["cpuMedianMs"])
            }
            return out
        }
    }

    /// The stored repeatability checks of a device's sessions, oldest first (sessions without one are left out).
    public func repeatability(device name: String) throws -> [(session: String, startedAt: Date, check: Repeatability)] {
        let device = try self.device(named: name)
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT uuid, startedAt, repeatability FROM session WHERE deviceId = ? AND repeatability IS NOT NULL ORDER BY id",
                             arguments: [device.id]).map { r in
                (r["uuid"], r["startedAt"], try self.decodeRepeatability(r["repeatability"], session: r["uuid"]))
            }
        }
    }

    /// A session's stored check, refused in one line when damaged.
    func decodeRepeatability(_ text: String, session uuid: String) throws -> Repeatability {
        guard let check = try? JSONDecoder().decode(Repeatability.self, from: Data(text.utf8)), check.problem == nil else {
            throw StoreError.cannotOpen(path: path, reason: "session \(uuid) holds a damaged repeatability record")
        }
        return check
    }

    public func summary(of session: MeasurementSession, architectures: Set<String>) throws -> SessionSummary {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT a.archString, m.unstable, m.cv, e.joulesPerInference, e.absentReason
                FROM measurement m JOIN architecture a ON a.id = m.architectureId LEFT JOIN energy e ON e.measurementId = m.id
                WHERE m.sessionId = ? ORDER BY a.archIndex, a.archString
                """, arguments: [session.id]).filter { architectures.contains($0["archString"]) }
            return SessionSummary(unstable: rows.filter { $0["unstable"] as Bool }.count,
                                  coefficientsOfVariation: rows.compactMap { $0["cv"] as Double? },
                                  energyMeasured: rows.contains { ($0["joulesPerInference"] as Double?) != nil },
                                  energyAbsentReason: rows.lazy.compactMap { $0["absentReason"] as String? }.first)
        }
    }

    /// A total over rounds after one more: absent, with the first reason, when either part is.
    static func sum(_ total: Double?, _ totalReason: String?, _ value: Double?, _ reason: String?) -> (value: Double?, reason: String?) {
        guard let total, let value else { return (nil, totalReason ?? reason ?? "absent") }
        return (total + value, nil)
    }

    /// The rows of an architecture after one more round: repetitions appended and statistics
    /// recomputed over all of them; counters and energy summed over the passes of every round,
    /// and absent (with the reason) when any round could not measure them.
    static func combine(_ existing: StoredMeasurement?, _ m: RoundMeasurement) -> ArchitectureResult {
        let repetitions = (existing?.repetitionsMs ?? []) + m.repetitionsMs
        let newCPU: [Double?] = m.cpuRepetitionsMs.count == m.repetitionsMs.count ? m.cpuRepetitionsMs : m.repetitionsMs.map { _ in nil }
        let cpuRepetitions = (existing?.cpuRepetitionsMs ?? []) + newCPU
        let st = SampleStatistics(repetitions)
        var measurement = MeasurementRecord(
            sessionId: 0, architectureId: 0, role: existing?.measurement.role ?? m.role, label: .measured,
            repetitionCount: repetitions.count, medianMs: st.median, meanMs: st.mean, p10Ms: st.p10, p90Ms: st.p90,
            madMs: st.medianAbsoluteDeviation, cv: st.coefficientOfVariation, minMs: st.minimum,
            attempts: max(existing?.measurement.attempts ?? 1, m.attempts), rounds: (existing?.measurement.rounds ?? 0) + 1,
            unstable: (existing?.measurement.unstable ?? false) || m.unstable, measuredAt: Date(), cpuAbsentReason: nil)
        let cpu = cpuRepetitions.compactMap { $0 }
        if cpu.count == cpuRepetitions.count, !cpu.isEmpty {
            let c = SampleStatistics(cpu)
            (measurement.cpuMedianMs, measurement.cpuMeanMs, measurement.cpuP10Ms, measurement.cpuP90Ms, measurement.cpuCv) =
                (c.median, c.mean, c.p10, c.p90, c.coefficientOfVariation)
        } else {
            measurement.cpuAbsentReason = existing?.measurement.cpuAbsentReason ?? CPUTime.partialReason
        }
        // Steal and switches add up over the rounds; one round without them makes the sum absent.
        let old = existing?.measurement, first = old == nil
        (measurement.stealMs, measurement.stealAbsentReason) = Self.sum(first ? 0 : old?.stealMs, old?.stealAbsentReason, m.noise.stealMs, m.noise.stealAbsentReason)
        let switches = Self.sum(first ? 0 : old?.involuntarySwitches.map(Double.init), old?.switchesAbsentReason,
                                m.noise.involuntarySwitches.map(Double.init), m.noise.switchesAbsentReason)
        (measurement.involuntarySwitches, measurement.switchesAbsentReason) = (switches.value.map { Int($0) }, switches.reason)
        let counters: [CounterValueRecord] = m.counters.keys.sorted().map { event in
            let old = existing?.counters.first { $0.event == event }
            switch m.counters[event]! {
            case .counted(let total, let passes, let enabled, let running, let scaled) where old == nil || old?.total != nil:
                let sum = (old?.total ?? 0) + total, allPasses = (old?.passes ?? 0) + passes
                return CounterValueRecord(measurementId: 0, event: event, perInference: sum / Double(allPasses), total: sum,
                                          passes: allPasses, timeEnabledNs: (old?.timeEnabledNs ?? 0) + Int64(enabled),
                                          timeRunningNs: (old?.timeRunningNs ?? 0) + Int64(running), scaled: (old?.scaled ?? false) || scaled)
            case .counted:
                return CounterValueRecord(measurementId: 0, event: event, absentReason: old?.absentReason ?? "absent in an earlier round")
            case .absent(let reason):
                return CounterValueRecord(measurementId: 0, event: event, absentReason: old?.absentReason ?? reason)
            }
        }
        let energy: EnergyRecord
        switch (m.energy, existing?.energy) {
        case (.measured(let j, let source, let domains, let windowMs, let passes), let old)
            where old == nil || old?.joulesPerInference != nil:
            let oldPasses = old?.passes ?? 0
            let joules = (old?.joulesPerInference ?? 0) * Double(oldPasses) + j * Double(passes)
            energy = EnergyRecord(measurementId: 0, joulesPerInference: joules / Double(oldPasses + passes), source: source,
                                  domains: (try? Self.json(domains)) ?? domains.joined(separator: ","),
                                  windowMs: (old?.windowMs ?? 0) + windowMs, passes: oldPasses + passes)
        case (.absent(let reason), let old):
            energy = EnergyRecord(measurementId: 0, source: "none", absentReason: old?.absentReason ?? reason)
        case (.measured, let old):
            energy = EnergyRecord(measurementId: 0, source: "none", absentReason: old?.absentReason ?? "absent in an earlier round")
        }
        return ArchitectureResult(architectureString: m.architecture, architectureIndex: m.index, measurement: measurement,
                                  repetitionsMs: repetitions, cpuRepetitionsMs: cpuRepetitions, counters: counters, energy: energy)
    }
}
