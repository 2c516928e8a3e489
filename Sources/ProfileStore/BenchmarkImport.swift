import DataFiles
import DeviceModel
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
    /// Imports a benchmark's tables as `benchmark` devices of `space` (`BenchmarkTable`'s layouts):
    /// every device of `latencyTable` (arch_index, the space's architecture columns, each device's
    /// latency and, where the benchmark has it, energy), and the devices of `featureTable` that
    /// have no full table, with their reference values only. Energy is stored as the energy of
    /// each measurement (source `benchmark`). Table rows that name one architecture (OFA rows
    /// differing only in skipped layers) keep the first row's values. Importing twice adds nothing.
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
        typealias Values = (index: Int, string: String, ms: Double, joules: Double?)
        var tables: [(device: String, role: (Int) -> String, rows: [Values], file: String)] = []
        let referenceSet = Set(references.map(\.string))
        let full = try BenchmarkTable.devices(in: latencyTable, notDevices: architectureColumns)
        for device in full {
            tables.append((device.name, { referenceSet.contains(strings[$0]) ? "reference" : "table" },
                           (0..<strings.count).map { (indices[$0], strings[$0], device.latencies[$0], device.energies?[$0]) },
                           (latencyTable.path as NSString).lastPathComponent))
        }
        for device in try BenchmarkTable.references(in: featureTable, count: references.count) where !full.contains(where: { $0.name == device.name }) {
            let rows = references.enumerated().map { k, ref in (ref.index, ref.string, device.latencies[k], device.energies?[k]) }
            tables.append((device.name, { _ in "reference" }, rows, (featureTable.path as NSString).lastPathComponent))
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
                let energy = try db.makeStatement(sql: "INSERT INTO energy (measurementId, joulesPerInference, source) VALUES (?, ?, 'benchmark')")
                for (k, row) in table.rows.enumerated() {
                    try insert.execute(arguments: [session.id!, architectureIds[row.string]!, table.role(k), row.ms])
                    guard db.changesCount == 1 else { continue }
                    counts.measurements += 1
                    if let joules = row.joules { try energy.execute(arguments: [db.lastInsertedRowID, joules]) }
                }
            }
        }
        return counts
    }
}
