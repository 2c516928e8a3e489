import DataFiles
import Foundation
import SearchSpaces

/// A benchmark's shipped device data in either layout: a device table with one latency column
/// per device (HELP's NB201 and OFA tables: `<device>` in ms) or a latency and an energy column per
/// device (HW-GPT-Bench's: `<device>_latency_ms`, `<device>_energy_j`); and a feature table of
/// each device's reference values (`ref<k>_ms`, or `ref<k>_latency_ms` and `ref<k>_energy_j`).
public enum BenchmarkTable {
    /// One device's values: a latency (ms) per row, and an energy (J per inference) per row
    /// where the benchmark has energy.
    public struct Device: Sendable {
        public var name: String
        public var latencies: [Double]
        public var energies: [Double]?
    }

    /// The shipped device table and feature table of `space`.
    public static func shipped(_ space: SpaceName) throws -> (devices: CSVTable, features: CSVTable) {
        let files = space.space.shippedBenchmark
        return (try CSVTable(contentsOf: ShippedData.path(files.deviceTable)), try CSVTable(contentsOf: ShippedData.path(files.featureTable)))
    }

    /// Every device of a device table; `notDevices` are the architecture columns.
    public static func devices(in table: CSVTable, notDevices: Set<String>) throws -> [Device] {
        let columns = table.header.filter { !notDevices.contains($0) }
        var names: [String] = []
        for column in columns {
            let name = column.hasSuffix("_latency_ms") ? String(column.dropLast(11)) : column.hasSuffix("_energy_j") ? String(column.dropLast(9)) : column
            if !names.contains(name) { names.append(name) }
        }
        return try names.map { name in
            let split = columns.contains(name + "_latency_ms")
            guard !split || columns.contains(name + "_energy_j") || !columns.contains(name) else {
                throw DataFileError.badRow(path: table.path, line: 1, reason: "device '\(name)' has both a '\(name)' and a '\(name)_latency_ms' column")
            }
            let latencies = try values(table, column: split ? name + "_latency_ms" : name, metric: .latency)
            let energies = columns.contains(name + "_energy_j") ? try values(table, column: name + "_energy_j", metric: .energy) : nil
            return Device(name: name, latencies: latencies, energies: energies)
        }
    }

    /// Every device of a feature table: its `count` reference latencies, and energies where given.
    public static func references(in table: CSVTable, count: Int) throws -> [Device] {
        let names = try table.column("device")
        let split = table.header.contains("ref0_latency_ms"), hasEnergy = table.header.contains("ref0_energy_j")
        return try names.enumerated().map { row, name in
            func reference(_ column: String, _ metric: DeviceMetric) throws -> Double {
                let raw = table.rows[row][try table.columnIndex(column)]
                guard let v = Double(raw), metric.plausibleRange.contains(v) else {
                    throw DataFileError.badValue(path: table.path, line: row + 2, column: column, value: raw, expected: "a positive \(metric.rawValue) in \(metric.unit)")
                }
                return v
            }
            return Device(name: name,
                          latencies: try (0..<count).map { try reference(split ? "ref\($0)_latency_ms" : "ref\($0)_ms", .latency) },
                          energies: hasEnergy ? try (0..<count).map { try reference("ref\($0)_energy_j", .energy) } : nil)
        }
    }

    /// A column whose every value is a plausible value of `metric`.
    static func values(_ table: CSVTable, column: String, metric: DeviceMetric) throws -> [Double] {
        let i = try table.columnIndex(column)
        return try table.rows.enumerated().map { line, row in
            guard let v = Double(row[i]), metric.plausibleRange.contains(v) else {
                throw DataFileError.badValue(path: table.path, line: line + 2, column: column, value: row[i], expected: "a positive \(metric.rawValue) in \(metric.unit)")
            }
            return v
        }
    }
}
