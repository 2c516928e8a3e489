import Foundation
import GRDB

extension ProfileDatabase {
    /// Copies every device, session and measurement of the database at `inputPath` that this one
    /// lacks, and completes what an earlier merge saw partly: a measurement is taken by round, so
    /// the input's copy replaces this one's (with its counters and energy) when it holds more
    /// rounds. Sessions are matched by UUID and measurements by (session, architecture), so
    /// merging the same input twice changes nothing.
    public func merge(from inputPath: String) throws -> TransferCounts {
        if Self.sameFile(inputPath, path) {
            throw StoreError.mergeIntoItself(path: inputPath)
        }
        // Validates the input (schema, application); an input of an older schema is upgraded in
        // place first (every row kept), so that both share the tables merged below.
        let input = try ProfileDatabase(path: inputPath, readOnly: true)
        let incomingDevices = try input.writer.read { db in try DeviceRecord.fetchAll(db) }
        for device in incomingDevices {
            if let existing = try? self.device(named: device.name), existing.source != device.source {
                throw StoreError.conflictingDevice(name: device.name, existing: existing.source.rawValue, incoming: device.source.rawValue)
            }
        }
        return try writer.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS input", arguments: [inputPath])
            defer { try? db.execute(sql: "DETACH DATABASE input") }
            var counts = TransferCounts()
            try db.inTransaction(.immediate) {
                try db.execute(sql: """
                    INSERT INTO main.device (name, source, fingerprint, createdAt)
                    SELECT name, source, fingerprint, createdAt FROM input.device
                    WHERE name NOT IN (SELECT name FROM main.device)
                    """)
                counts.devices = db.changesCount
                try db.execute(sql: """
                    INSERT OR IGNORE INTO main.architecture (space, archIndex, archString)
                    SELECT space, archIndex, archString FROM input.architecture
                    """)
                try db.execute(sql: """
                    INSERT INTO main.session (uuid, deviceId, kind, space, configKey, configuration, batch, threads,
                        repeats, warmup, networkShape, events, energyMode, host, startedAt, repeatability, latencyClock)
                    SELECT s.uuid, md.id, s.kind, s.space, s.configKey, s.configuration, s.batch, s.threads,
                        s.repeats, s.warmup, s.networkShape, s.events, s.energyMode, s.host, s.startedAt, s.repeatability, s.latencyClock
                    FROM input.session s JOIN input.device d ON d.id = s.deviceId
                    JOIN main.device md ON md.name = d.name
                    WHERE s.uuid NOT IN (SELECT uuid FROM main.session)
                    """)
                counts.sessions = db.changesCount
                // Maps each input measurement to the session and architecture ids of this database.
                let mapped = """
                    FROM input.measurement m
                    JOIN input.session s ON s.id = m.sessionId JOIN main.session ms ON ms.uuid = s.uuid
                    JOIN input.architecture a ON a.id = m.architectureId
                    JOIN main.architecture ma ON ma.space = a.space AND ma.archString = a.archString
                    """
                let target = "JOIN main.measurement mm ON mm.sessionId = ms.id AND mm.architectureId = ma.id"
                // Rows of this database that the input holds with more rounds give way (their
                // counters and energy go with them, ON DELETE CASCADE); the inserts below copy the
                // input's complete rows.
                try db.execute(sql: "DELETE FROM main.measurement WHERE id IN (SELECT mm.id \(mapped) \(target) WHERE m.rounds > mm.rounds)")
                counts.completed = db.changesCount
                try db.execute(sql: """
                    INSERT OR IGNORE INTO main.measurement (sessionId, architectureId, role, label,
                        repetitionCount, medianMs, meanMs, p10Ms, p90Ms, madMs, cv, minMs, attempts, rounds, unstable, measuredAt,
                        cpuMedianMs, cpuMeanMs, cpuP10Ms, cpuP90Ms, cpuCv, cpuAbsentReason,
                        stealMs, stealAbsentReason, involuntarySwitches, switchesAbsentReason)
                    SELECT ms.id, ma.id, m.role, m.label, m.repetitionCount, m.medianMs, m.meanMs,
                        m.p10Ms, m.p90Ms, m.madMs, m.cv, m.minMs, m.attempts, m.rounds, m.unstable, m.measuredAt,
                        m.cpuMedianMs, m.cpuMeanMs, m.cpuP10Ms, m.cpuP90Ms, m.cpuCv, m.cpuAbsentReason,
                        m.stealMs, m.stealAbsentReason, m.involuntarySwitches, m.switchesAbsentReason
                    \(mapped)
                    """)
                counts.measurements = db.changesCount - counts.completed
                // Repetitions only into rows that have none: a row kept from this database keeps its own.
                try db.execute(sql: """
                    INSERT INTO main.repetition (measurementId, ordinal, ms, cpuMs)
                    SELECT mm.id, r.ordinal, r.ms, r.cpuMs
                    \(mapped) \(target) JOIN input.repetition r ON r.measurementId = m.id
                    WHERE NOT EXISTS (SELECT 1 FROM main.repetition x WHERE x.measurementId = mm.id AND x.ordinal = r.ordinal)
                      AND m.rounds = mm.rounds
                    """)
                try db.execute(sql: """
                    INSERT OR IGNORE INTO main.counterValue (measurementId, event, perInference, total, passes,
                        timeEnabledNs, timeRunningNs, scaled, absentReason)
                    SELECT mm.id, c.event, c.perInference, c.total, c.passes, c.timeEnabledNs, c.timeRunningNs, c.scaled, c.absentReason
                    \(mapped) \(target) JOIN input.counterValue c ON c.measurementId = m.id
                    """)
                try db.execute(sql: """
                    INSERT OR IGNORE INTO main.energy (measurementId, joulesPerInference, source, domains, windowMs, passes, absentReason)
                    SELECT mm.id, e.joulesPerInference, e.source, e.domains, e.windowMs, e.passes, e.absentReason
                    \(mapped) \(target) JOIN input.energy e ON e.measurementId = m.id
                    """)
                try db.execute(sql: """
                    INSERT OR IGNORE INTO main.sessionEvent (sessionId, event, supported, privilege, reason, encoding)
                    SELECT ms.id, e.event, e.supported, e.privilege, e.reason, e.encoding
                    FROM input.sessionEvent e JOIN input.session s ON s.id = e.sessionId JOIN main.session ms ON ms.uuid = s.uuid
                    """)
                return .commit
            }
            return counts
        }
    }

    /// Whether two paths name one file (through `..`, a symlink or a hard link): same device and inode.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        func identity(_ p: String) -> (Int, Int)? {
            let resolved = URL(fileURLWithPath: p).resolvingSymlinksInPath().path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
                  let device = (attributes[.systemNumber] as? NSNumber)?.intValue,
                  let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue else { return nil }
            return (device, inode)
        }
        guard let x = identity(a), let y = identity(b) else { return false }
        return x == y
    }
}
