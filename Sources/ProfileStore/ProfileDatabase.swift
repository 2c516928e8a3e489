import CSQLiteConfig
import DataFiles
import DeviceModel
import Foundation
import GRDB

/// The SQLite store of measured and benchmark devices (WAL mode; safe for several writers).
///
/// Opening runs the migrations, after refusing databases of another application or of a newer
/// schema. Every architecture's results are written in one transaction, so a killed run loses at
/// most the architecture in flight.
public final class ProfileDatabase: @unchecked Sendable {
    public let path: String
    /// The connection: a WAL pool for files, any writer (an in-memory queue in tests) otherwise.
    let writer: any DatabaseWriter

    /// Opens (creating and migrating when writable) the database at `path`. Read-only opening
    /// needs the file to exist; a file of an older schema is upgraded first when it is writable.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw StoreError.missingDatabase(path: path)
        }
        _ = Self.uriFileNames
        do {
            writer = try Self.openRetrying(path: path, readOnly: readOnly)
        } catch StoreError.schemaMismatch where readOnly && FileManager.default.isWritableFile(atPath: path) {
            // An older schema: migrations are transactions that keep every row, so the file is
            // upgraded once, then opened read-only as asked.
            _ = try Self.openRetrying(path: path, readOnly: false)
            writer = try Self.openRetrying(path: path, readOnly: true)
        } catch StoreError.cannotOpen where readOnly && !FileManager.default.isWritableFile(atPath: FilePath.folder(of: path)) {
            // A WAL database on read-only media: SQLite cannot create its -shm file there, so
            // the file is opened as immutable (no writer can change it there either).
            writer = try Self.openRetrying(path: Self.immutableURI(path), readOnly: true, shownAs: path)
        }
    }

    /// A store on `writer` (e.g. `DatabaseQueue()` in memory), migrated to the current schema.
    public init(writer: any DatabaseWriter, path: String = ":memory:") throws {
        self.path = path
        try Schema.migrator.migrate(writer)
        self.writer = writer
    }

    /// Enables `file:` URIs before SQLite's first connection (see CSQLiteConfig).
    static let uriFileNames: Int32 = modnas_sqlite_enable_uri_filenames()

    /// `path` as an SQLite URI that opens it immutable.
    static func immutableURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let escaped = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? absolute
        return "file:\(escaped)?immutable=1"
    }

    /// Opens and migrates, retrying while another process creates the same file. Two processes
    /// creating a new file race on GRDB's migration bookkeeping (its check for applied migrations
    /// runs outside the migration's transaction) and on the switch to WAL: the loser sees
    /// "database is locked", "table already exists" or (for a migration that adds a column)
    /// "duplicate column name". Each migration is one transaction, so
    /// opening again after a short wait finds the winner's finished schema.
    static func openRetrying(path: String, readOnly: Bool, shownAs shown: String? = nil) throws -> DatabasePool {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try openAndMigrate(path: path, readOnly: readOnly, shownAs: shown ?? path)
            } catch let error as DatabaseError where attempt < 50 && isConcurrentCreation(error) {
                usleep(UInt32.random(in: 20_000...80_000))
            } catch let error as DatabaseError {
                if error.resultCode == .SQLITE_NOTADB { throw StoreError.notSQLite(path: shown ?? path) }
                throw StoreError.cannotOpen(path: shown ?? path, reason: error.message ?? "\(error.resultCode)")
            }
        }
    }

    /// Whether `error` is what a process sees while another one creates or migrates the file.
    static func isConcurrentCreation(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
            || (error.resultCode == .SQLITE_ERROR && ["already exists", "duplicate column name"].contains { (error.message ?? "").contains($0) })
    }

    /// One attempt at opening: refuses files of another application or of a newer schema, then
    /// migrates when writable.
    static func openAndMigrate(path: String, readOnly: Bool, shownAs shown: String) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(120)
        config.readonly = readOnly
        let pool = try DatabasePool(path: path, configuration: config)
        let migrator = Schema.migrator
        try pool.read { db in
            let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            if applicationID != 0 && applicationID != Schema.applicationID { throw StoreError.notAProfileDatabase(path: shown) }
            if applicationID == 0 && !tables.isEmpty && !tables.contains("grdb_migrations") {
                throw StoreError.notAProfileDatabase(path: shown)
            }
            if try migrator.hasBeenSuperseded(db) {
                let known = Set(migrator.migrations)
                throw StoreError.newerSchema(path: shown, unknownMigrations: try migrator.appliedIdentifiers(db).subtracting(known).sorted())
            }
            if readOnly && tables.isEmpty { throw StoreError.emptyDatabase(path: shown) }
            if readOnly, try !migrator.hasCompletedMigrations(db) { throw StoreError.schemaMismatch(path: shown) }
        }
        if !readOnly { try migrator.migrate(pool) }
        return pool
    }

    // MARK: Devices

    /// The device named `name`, created when missing; a measured device's fingerprint is updated.
    public func upsertDevice(name: String, source: DataSource, fingerprint: HostFingerprint?) throws -> DeviceRecord {
        try DeviceName.check(name)
        let json = try fingerprint.map(Self.json)
        return try writer.write { db in
            if var device = try DeviceRecord.filter(DeviceRecord.Columns.name == name).fetchOne(db) {
                if device.source != source {
                    throw StoreError.conflictingDevice(name: name, existing: device.source.rawValue, incoming: source.rawValue)
                }
                if let json { device.fingerprint = json; try device.update(db) }
                return device
            }
            var device = DeviceRecord(id: nil, name: name, source: source, fingerprint: json, createdAt: Date())
            try device.insert(db)
            return device
        }
    }

    /// The device named `name`, or an error listing the known devices.
    public func device(named name: String) throws -> DeviceRecord {
        try writer.read { db in
            if let d = try DeviceRecord.filter(DeviceRecord.Columns.name == name).fetchOne(db) { return d }
            throw StoreError.unknownDevice(name: name, known: try String.fetchAll(db, sql: "SELECT name FROM device ORDER BY name"))
        }
    }

    // MARK: Sessions and measurements

    /// The latest session of the template's device with the same configuration key, or the
    /// template inserted as a new session. Runs as one immediate transaction, so concurrent agents
    /// with the same configuration share a session.
    public func session(matching template: SessionRecord) throws -> SessionRecord {
        try writer.writeWithoutTransaction { db in
            var result = template
            try db.inTransaction(.immediate) {
                if let existing = try SessionRecord
                    .filter(SessionRecord.Columns.deviceId == template.deviceId && SessionRecord.Columns.configKey == template.configKey)
                    .order(Column("id").desc).fetchOne(db) {
                    result = existing
                } else {
                    try result.insert(db)
                }
                return .commit
            }
            return result
        }
    }

    /// The rounds already stored per architecture string: in one session, or (with
    /// `deviceId`/`configKey`) the most of any session of a device under a configuration key.
    public func storedRounds(sessionId: Int64? = nil, deviceId: Int64? = nil, configKey: String? = nil) throws -> [String: Int] {
        try writer.read { db in
            Dictionary(try Row.fetchAll(db, sql: """
                SELECT a.archString, m.rounds FROM measurement m
                JOIN session s ON s.id = m.sessionId JOIN architecture a ON a.id = m.architectureId
                WHERE (? IS NULL OR s.id = ?) AND (? IS NULL OR s.deviceId = ?) AND (? IS NULL OR s.configKey = ?)
                """, arguments: [sessionId, sessionId, deviceId, deviceId, configKey, configKey])
                .map { ($0[0] as String, $0[1] as Int) }, uniquingKeysWith: max)
        }
    }

    /// Records, once per session, whether each requested event can be counted.
    public func recordEvents(_ events: [SessionEventRecord]) throws {
        try writer.write { db in
            for e in events { try e.insert(db, onConflict: .ignore) }
        }
    }

    /// The events recorded for a session.
    public func events(sessionId: Int64) throws -> [SessionEventRecord] {
        try writer.read { db in try SessionEventRecord.filter(Column("sessionId") == sessionId).fetchAll(db) }
    }

    /// Writes one architecture's measurement, counters and energy in one transaction. Returns
    /// false (writing nothing) when the session already holds that architecture.
    @discardableResult
    public func save(_ result: ArchitectureResult, space: String) throws -> Bool {
        var inserted = false
        try update(sessionId: result.measurement.sessionId, space: space, architectureString: result.architectureString,
                   architectureIndex: result.architectureIndex) { existing in
            inserted = existing == nil
            return existing == nil ? result : nil
        }
        return inserted
    }

    /// Replaces one architecture's rows by `combine(existing rows)` in one transaction (nil keeps
    /// them). The read and the write share the transaction, so concurrent agents cannot lose a round.
    public func update(sessionId: Int64, space: String, architectureString: String, architectureIndex: Int?,
                       combine: (StoredMeasurement?) throws -> ArchitectureResult?) throws {
        try writer.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let archId = try Self.architectureId(db, space: space, string: architectureString, index: architectureIndex)
                var existing: StoredMeasurement?
                if let m = try MeasurementRecord.fetchOne(db, sql: "SELECT * FROM measurement WHERE sessionId = ? AND architectureId = ?",
                                                          arguments: [sessionId, archId]) {
                    let repetitions = try Row.fetchAll(db, sql: "SELECT ms, cpuMs FROM repetition WHERE measurementId = ? ORDER BY ordinal",
                                                       arguments: [m.id])
                    existing = StoredMeasurement(
                        measurement: m, repetitionsMs: repetitions.map { $0["ms"] }, cpuRepetitionsMs: repetitions.map { $0["cpuMs"] },
                        counters: try CounterValueRecord.fetchAll(db, sql: "SELECT * FROM counterValue WHERE measurementId = ? ORDER BY rowid",
                                                                  arguments: [m.id]),
                        energy: try EnergyRecord.fetchOne(db, sql: "SELECT * FROM energy WHERE measurementId = ?", arguments: [m.id]))
                }
                guard let result = try combine(existing) else { return .commit }
                var m = result.measurement
                m.sessionId = sessionId
                m.architectureId = archId
                if let old = existing?.measurement.id {
                    m.id = old
                    try m.update(db)
                    try db.execute(sql: "DELETE FROM counterValue WHERE measurementId = ?", arguments: [old])
                    try db.execute(sql: "DELETE FROM energy WHERE measurementId = ?", arguments: [old])
                } else {
                    m.id = nil
                    try m.insert(db)
                }
                try db.execute(sql: "DELETE FROM repetition WHERE measurementId = ?", arguments: [m.id])
                let repetition = try db.makeStatement(sql: "INSERT INTO repetition (measurementId, ordinal, ms, cpuMs) VALUES (?, ?, ?, ?)")
                for (k, ms) in result.repetitionsMs.enumerated() {
                    try repetition.execute(arguments: [m.id, k, ms, result.cpuRepetitionsMs.indices.contains(k) ? result.cpuRepetitionsMs[k] : nil])
                }
                for var c in result.counters { c.measurementId = m.id!; try c.insert(db) }
                if var e = result.energy { e.measurementId = m.id!; try e.insert(db) }
                return .commit
            }
        }
    }

    /// The id of an architecture row, inserted when missing.
    static func architectureId(_ db: Database, space: String, string: String, index: Int?) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO architecture (space, archIndex, archString) VALUES (?, ?, ?)",
                       arguments: [space, index, string])
        return try Int64.fetchOne(db, sql: "SELECT id FROM architecture WHERE space = ? AND archString = ?",
                                  arguments: [space, string])!
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
