import DeviceModel
import Foundation
import GRDB
import Statistics

/// One line of `modnas-profile devices`: a device in one space.
public struct DeviceSummary: Codable, Equatable, Sendable {
    public var name: String
    public var source: DataSource
    /// The space of its sessions; nil for a device without any.
    public var space: String?
    public var sessions: Int
    public var architectures: Int
    public var measurements: Int
    public var unstable: Int
    /// Whether all reference architectures are stored (a feature vector can be written).
    public var hasReferences: Bool
}

extension ProfileDatabase {
    /// Every device in every space it has sessions of, with its source and counts (by space,
    /// then source, then name); `referenceStrings[space]` decides `hasReferences`.
    public func deviceSummaries(referenceStrings: [String: [String]]) throws -> [DeviceSummary] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.name, d.source, s.space,
                       COUNT(DISTINCT s.id) AS sessions,
                       COUNT(DISTINCT m.architectureId) AS architectures,
                       COUNT(m.id) AS measurements,
                       COALESCE(SUM(m.unstable), 0) AS unstable
                FROM device d
                LEFT JOIN session s ON s.deviceId = d.id
                LEFT JOIN measurement m ON m.sessionId = s.id
                GROUP BY d.id, s.space ORDER BY s.space, d.source DESC, d.name
                """)
            return try rows.map { row in
                let name: String = row["name"], space: String? = row["space"]
                let stored = Set(try String.fetchAll(db, sql: """
                    SELECT a.archString FROM measurement m JOIN session s ON s.id = m.sessionId
                    JOIN device d ON d.id = s.deviceId JOIN architecture a ON a.id = m.architectureId
                    WHERE d.name = ? AND a.space = ?
                    """, arguments: [name, space]))
                let references = space.flatMap { referenceStrings[$0] } ?? []
                return DeviceSummary(name: name, source: DataSource(rawValue: row["source"]) ?? .measured, space: space,
                                     sessions: row["sessions"], architectures: row["architectures"],
                                     measurements: row["measurements"], unstable: row["unstable"],
                                     hasReferences: !references.isEmpty && references.allSatisfy(stored.contains))
            }
        }
    }

    /// The feature vectors of `device`: reference latencies (medians on the session's clock, ms)
    /// from its latest session holding all references, in reference order, with that session's
    /// repeatability check; and their energies (J per inference) when the session has them all,
    /// else the reason they are absent.
    public func features(device name: String, space: String,
                         references: [(index: Int, string: String)]) throws -> DeviceFeatures {
        let device = try device(named: name)
        return try writer.read { db in
            let sessions = try SessionRecord.filter(SessionRecord.Columns.deviceId == device.id!)
                .order(Column("id").desc).fetchAll(db)
            var fewestMissing = references.count
            for session in sessions {
                let column = Self.medianColumn(session.latencyClock)
                var values: [Double] = [], energies: [Double] = [], energyAbsence: String?
                for ref in references {
                    guard let row = try Row.fetchOne(db, sql: """
                        SELECT m.\(column) AS latency, e.joulesPerInference AS joules, e.absentReason AS absent
                        FROM measurement m JOIN architecture a ON a.id = m.architectureId LEFT JOIN energy e ON e.measurementId = m.id
                        WHERE m.sessionId = ? AND a.space = ? AND a.archString = ?
                        """, arguments: [session.id!, space, ref.string]), let latency = row["latency"] as Double? else { continue }
                    values.append(latency)
                    if let joules = row["joules"] as Double? { energies.append(joules) } else {
                        energyAbsence = energyAbsence ?? (row["absent"] as String?)
                    }
                }
                guard values.count == references.count else {
                    fewestMissing = min(fewestMissing, references.count - values.count)
                    continue
                }
                let measured = device.source == .measured
                let host = try (session.host ?? device.fingerprint).map { try JSONDecoder().decode(HostFingerprint.self, from: Data($0.utf8)) }
                let check = try String.fetchOne(db, sql: "SELECT repeatability FROM session WHERE id = ?", arguments: [session.id!])
                    .map { try self.decodeRepeatability($0, session: session.uuid) }
                let hasEnergy = energies.count == references.count
                return DeviceFeatures(device: name, space: space, source: device.source,
                                      referenceArchIndices: references.map(\.index), values: values,
                                      host: measured ? host : nil, latencyClock: measured ? session.latencyClock : nil,
                                      repeatability: measured ? check : nil,
                                      energyValues: hasEnergy ? energies : nil,
                                      energyAbsentReason: hasEnergy ? nil : energyAbsence.map { "not measured: \($0)" }
                                          ?? (measured ? "the session stored no energy for \(references.count - energies.count) references"
                                                       : "its benchmark table holds no energy"))
            }
            throw StoreError.incompleteReferences(device: name, missing: fewestMissing)
        }
    }

    /// The measurement column holding a clock's median.
    static func medianColumn(_ clock: LatencyClock) -> String { clock == .wall ? "medianMs" : "cpuMedianMs" }

    /// The clock a device's latencies of `space` are read from: that of its latest session in
    /// the space (wall for benchmark devices and devices without sessions).
    public func latencyClock(device name: String, space: String) throws -> LatencyClock {
        let device = try device(named: name)
        return try writer.read { db in
            try String.fetchOne(db, sql: "SELECT latencyClock FROM session WHERE deviceId = ? AND space = ? AND kind = 'measured' ORDER BY id DESC LIMIT 1",
                                arguments: [device.id, space]).flatMap(LatencyClock.init(rawValue:)) ?? .wall
        }
    }
}

extension ProfileDatabase {
    /// A device's latency per architecture string: `values(device:space:metric: .latency)`.
    public func latencies(device name: String, space: String) throws -> [String: Double] {
        try values(device: name, space: space, metric: .latency)
    }

    /// A device's values of `metric` per architecture string, measured hosts and benchmark devices
    /// alike: the median over its sessions of each session's value. Latency is the median
    /// milliseconds on the device's clock (`latencyClock(device:space:)`; rows without CPU time
    /// are left out when that is CPU time); energy the joules per inference where measured.
    public func values(device name: String, space: String, metric: DeviceMetric) throws -> [String: Double] {
        let device = try device(named: name)
        let value = metric == .latency ? "m.\(Self.medianColumn(try latencyClock(device: name, space: space)))" : "e.joulesPerInference"
        return try writer.read { db in
            var byArch: [String: [Double]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT a.archString, \(value) FROM measurement m JOIN session s ON s.id = m.sessionId
                JOIN architecture a ON a.id = m.architectureId LEFT JOIN energy e ON e.measurementId = m.id
                WHERE s.deviceId = ? AND a.space = ? AND \(value) IS NOT NULL
                """, arguments: [device.id!, space]) {
                byArch[row[0], default: []].append(row[1])
            }
            return byArch.mapValues { v in
                let s = v.sorted()
                return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            }
        }
    }

    /// Why a device has no energy in `space`: the first stored reason, or that none was stored.
    public func energyAbsence(device name: String, space: String) throws -> String {
        let device = try device(named: name)
        return try writer.read { db in
            try String.fetchOne(db, sql: """
                SELECT e.absentReason FROM measurement m JOIN session s ON s.id = m.sessionId
                JOIN architecture a ON a.id = m.architectureId JOIN energy e ON e.measurementId = m.id
                WHERE s.deviceId = ? AND a.space = ? AND e.absentReason IS NOT NULL LIMIT 1
                """, arguments: [device.id!, space]).map { "not measured: \($0)" }
                ?? (device.source == .measured ? "no energy stored for it" : "its benchmark table holds no energy")
        }
    }

    /// Names of all devices.
    public func deviceNames() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM device ORDER BY name") }
    }
}
