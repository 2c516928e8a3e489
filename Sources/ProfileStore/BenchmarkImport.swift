import DataFiles
import Foundation
import GRDB
import SearchSpaces

/// What an import or merge added.
public struct TransferCounts: Equatable, Sendable {
    public var devices = 0
    public var sessions = 0
    public var measurements = 0
    /// Measurements replaced by the input's copy with more rounds (merge only).
    public var completed = 0
}

extension ProfileDatabase {
    /// Imports benchmark latency tables as `benchmark` devices of `space`: every device column of
    /// `latencyTable` (arch_index, the space's architecture columns, one column per device), and
    /// the devices of `featureTable` (device, split, ref0_ms…) that have no full table, with their
    /// reference latencies only. Table rows that name one architecture (OFA rows differing only
    /// in skipped layers) keep the first row's latency. Importing twice adds nothing.
    public func importBenchmark<S: SearchSpace>(space: S, latencyTable: CSVTable, featureTable: CSVTable) throws -> TransferCounts {
        try importBenchmark(space: space.name.rawValue, latencyTable: latencyTable, featureTable: featureTable,
                            references: try space.referenceArchitectures().map { ($0.index, space.string(of: $0.architecture)) },
                            architectureStrings: try space.architectures(in: latencyTable).map(space.string(of:)),
                            architectureColumns: Set(["arch_index", "arch_string"] + space.tableColumns))
    }

    /// The import with the rows' canonical strings given (default: the `arch_string` column)
    /// and the columns that are not devices.
    public func importBenchmark(space: String, latencyTable: CSVTable, featureTable: CSVTable,
                                references: [(index: Int, string: String)], architectureStrings: [String]? = nil,
                                architectureColumns: Set<String> = ["arch_index", "arch_string"]) throws -> TransferCounts {
        let strings = try architectureStrings ?? latencyTable.column("arch_string")
        let indices = try latencyTable.column("arch_index").enumerated().map { line, v in
            guard let i = Int(v) else {
                throw DataFileError.badValue(path: latencyTable.path, line: line + 2, column: "arch_index", value: v, expected: "an integer")
            }
            return i
        }
        let deviceColumns = latencyTable.header.filter { !architectureColumns.contains($0) }
        var tables: [(device: String, role: (Int) -> String, rows: [(index: Int, string: String, ms: Double)], file: String)] = []
        let referenceSet = Set(references.map(\.string))
        for device in deviceColumns {
            let values = try Self.positiveLatencies(latencyTable, column: device)
            tables.append((device, { referenceSet.contains(strings[$0]) ? "reference" : "table" },
                           (0..<strings.count).map { (indices[$0], strings[$0], values[$0]) },
                           (latencyTable.path as NSString).lastPathComponent))
        }
        let featureDevices = try featureTable.column("device")
        for (row, device) in featureDevices.enumerated() where !deviceColumns.contains(device) {
            var rows: [(index: Int, string: String, ms: Double)] = []
            for (k, ref) in references.enumerated() {
                let column = "ref\(k)_ms"
                let raw = featureTable.rows[row][try featureTable.columnIndex(column)]
                guard let ms = Double(raw), ms.isFinite, ms > 0 else {
                    throw DataFileError.badValue(path: featureTable.path, line: row + 2, column: column, value: raw, expected: "a positive latency in ms")
                }
                rows.append((ref.index, ref.string, ms))
            }
            tables.append((device, { _ in "reference" }, rows, (featureTable.path as NSString).lastPathComponent))
        }

        // Architecture ids once, rather than a look-up per row.
        let architectureIds: [String: Int64] = try writer.write { db in
            for (index, string) in zip(indices, strings) {
                _ = try Self.architectureId(db, space: space, string: string, index: index)
            }
            for ref in references { _ = try Self.architectureId(db, space: space, string: ref.string, index: ref.index) }
            return Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT archString, id FROM architecture WHERE space = ?",
                                                                     arguments: [space]).map { ($0[0], $0[1]) })
        }
        var counts = TransferCounts()
        for table in tables {
            try writer.write { db in
                var device: DeviceRecord
                if let d = try DeviceRecord.filter(DeviceRecord.Columns.name == table.device).fetchOne(db) {
                    guard d.source == .benchmark else {
                        throw StoreError.conflictingDevice(name: table.device, existing: d.source.rawValue, incoming: "benchmark")
                    }
                    device = d
                } else {
                    device = DeviceRecord(id: nil, name: table.device, source: .benchmark, fingerprint: nil, createdAt: Date())
                    try device.insert(db)
                    counts.devices += 1
                }
                let uuid = "benchmark:\(space):\(table.device):\(table.file)"
                var session: SessionRecord
                if let s = try SessionRecord.filter(SessionRecord.Columns.uuid == uuid).fetchOne(db) {
                    session = s
                } else {
                    session = SessionRecord(id: nil, uuid: uuid, deviceId: device.id!, kind: .benchmark, space: space,
                                            configKey: "benchmark:\(table.file)",
                                            configuration: try Self.json(["file": table.file, "space": space]),
                                            startedAt: Date())
                    try session.insert(db)
                    counts.sessions += 1
                }
                let insert = try db.makeStatement(sql: """
                    INSERT OR IGNORE INTO measurement (sessionId, architectureId, role, label, medianMs, attempts, unstable)
                    VALUES (?, ?, ?, 'benchmark', ?, 1, 0)
                    """)
                for (k, row) in table.rows.enumerated() {
                    try insert.execute(arguments: [session.id!, architectureIds[row.string]!, table.role(k), row.ms])
                    counts.measurements += db.changesCount
                }
            }
        }
        return counts
    }

    /// A latency column whose every value is a finite positive number.
    static func positiveLatencies(_ table: CSVTable, column: String) throws -> [Double] {
        let i = try table.columnIndex(column)
        return try table.rows.enumerated().map { line, row in
            guard let v = Double(row[i]), v.isFinite, v > 0 else {
                throw DataFileError.badValue(path: table.path, line: line + 2, column: column, value: row[i],
                                             expected: "a positive latency in ms")
            }
            return v
        }
    }
}
