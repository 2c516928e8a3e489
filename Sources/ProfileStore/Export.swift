import DataFiles
import DeviceModel
import Foundation
import GRDB
import SearchSpaces

/// One device × architecture × session row of `modnas-profile export`.
public struct ExportRow: Codable, Equatable, Sendable {
    public var device: String
    /// "measured" or "benchmark": where the numbers come from.
    public var label: String
    public var session: String
    public var space: String
    public var arch_index: Int?
    public var arch_string: String
    /// The space's own architecture columns (OFA: ks, e, d, r), empty for NB201.
    public var arch_columns: [String: String]
    public var role: String
    public var batch: Int?
    public var threads: Int?
    public var repetitions: Int?
    public var median_ms: Double
    public var mean_ms: Double?
    public var p10_ms: Double?
    public var p90_ms: Double?
    public var mad_ms: Double?
    public var cv: Double?
    /// The same statistics of the measuring thread's CPU time per repetition (nil with the reason).
    public var cpu_median_ms: Double?
    public var cpu_mean_ms: Double?
    public var cpu_p10_ms: Double?
    public var cpu_p90_ms: Double?
    public var cpu_cv: Double?
    public var cpu_absent_reason: String?
    /// Which clock the session reads latency from ("wall" or "cpu"; empty for benchmark rows).
    public var latency_clock: String?
    /// Steal time (ms, on the CPUs the thread may use) and involuntary context switches of the
    /// measuring thread over the timed windows (nil with the reason).
    public var steal_ms: Double?
    public var involuntary_switches: Int?
    public var host_noise_absent_reason: String?
    public var attempts: Int
    public var unstable: Bool
    public var energy_j_per_inference: Double?
    public var energy_source: String?
    public var energy_absent_reason: String?
    /// Counts per inference by event; nil where the event was not counted.
    public var counters: [String: Double?]
    /// Why each absent counter is absent.
    public var counters_absent_reason: [String: String]
}

extension ProfileDatabase {
    /// Export rows, for one device or all, ordered by device, session and official index.
    public func exportRows(device: String?) throws -> [ExportRow] {
        if let device { _ = try self.device(named: device) }
        return try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT m.id AS mid, d.name, m.label, s.uuid, a.space, a.archIndex, a.archString, m.role, s.batch,
                       s.threads, m.repetitionCount, m.medianMs, m.meanMs, m.p10Ms, m.p90Ms, m.madMs, m.cv,
                       m.cpuMedianMs, m.cpuMeanMs, m.cpuP10Ms, m.cpuP90Ms, m.cpuCv, m.cpuAbsentReason, s.latencyClock, s.kind,
                       m.stealMs, m.stealAbsentReason, m.involuntarySwitches, m.switchesAbsentReason, m.attempts, m.unstable, e.joulesPerInference, e.source AS esource, e.absentReason AS ereason
                FROM measurement m JOIN session s ON s.id = m.sessionId JOIN device d ON d.id = s.deviceId
                JOIN architecture a ON a.id = m.architectureId LEFT JOIN energy e ON e.measurementId = m.id
                WHERE (? IS NULL OR d.name = ?)
                ORDER BY d.name, s.id, a.archIndex, a.archString
                """, arguments: [device, device])
            var counters: [Int64: [CounterValueRecord]] = [:]
            for c in try CounterValueRecord.fetchAll(db, sql: """
                SELECT c.* FROM counterValue c JOIN measurement m ON m.id = c.measurementId
                JOIN session s ON s.id = m.sessionId JOIN device d ON d.id = s.deviceId
                WHERE (? IS NULL OR d.name = ?)
                """, arguments: [device, device]) {
                counters[c.measurementId, default: []].append(c)
            }
            return rows.map { r in
                let cs = counters[r["mid"]] ?? []
                return ExportRow(
                    device: r["name"], label: r["label"], session: r["uuid"], space: r["space"],
                    arch_index: r["archIndex"], arch_string: r["archString"],
                    arch_columns: SpaceName(rawValue: r["space"]).map { architectureColumns($0.space, r["archString"]) } ?? [:],
                    role: r["role"], batch: r["batch"],
                    threads: r["threads"], repetitions: r["repetitionCount"], median_ms: r["medianMs"],
                    mean_ms: r["meanMs"], p10_ms: r["p10Ms"], p90_ms: r["p90Ms"], mad_ms: r["madMs"], cv: r["cv"],
                    cpu_median_ms: r["cpuMedianMs"], cpu_mean_ms: r["cpuMeanMs"], cpu_p10_ms: r["cpuP10Ms"], cpu_p90_ms: r["cpuP90Ms"],
                    cpu_cv: r["cpuCv"], cpu_absent_reason: r["cpuAbsentReason"],
                    latency_clock: (r["kind"] as String) == DataSource.measured.rawValue ? r["latencyClock"] : nil,
                    steal_ms: r["stealMs"], involuntary_switches: r["involuntarySwitches"],
                    host_noise_absent_reason: Self.joinedReasons(steal: r["stealAbsentReason"], switches: r["switchesAbsentReason"]),
                    attempts: r["attempts"], unstable: r["unstable"], energy_j_per_inference: r["joulesPerInference"],
                    energy_source: r["esource"], energy_absent_reason: r["ereason"],
                    counters: Dictionary(uniqueKeysWithValues: cs.map { ($0.event, $0.perInference) }),
                    counters_absent_reason: Dictionary(uniqueKeysWithValues: cs.compactMap { c in c.absentReason.map { (c.event, $0) } }))
            }
        }
    }
}

extension ProfileDatabase {
    /// One reason cell for steal and switches: the shared reason once, or each labelled.
    static func joinedReasons(steal: String?, switches: String?) -> String? {
        switch (steal, switches) {
        case (nil, nil): nil
        case let (s?, w?) where s == w: s
        case let (s, w): [s.map { "steal: \($0)" }, w.map { "switches: \($0)" }].compactMap { $0 }.joined(separator: "; ")
        }
    }
}

/// The space's table columns of the architecture `string` (empty when it does not parse).
func architectureColumns<S: SearchSpace>(_ space: S, _ string: String) -> [String: String] {
    guard !space.tableColumns.isEmpty, let a = try? space.parse(string) else { return [:] }
    return Dictionary(uniqueKeysWithValues: zip(space.tableColumns, space.tableValues(of: a)))
}

/// Formats export rows as CSV (one `<event>_per_inference` column per counted event; empty
/// cells are absent values, whose reasons are in the `*_absent_reason` columns) or JSON.
public enum ExportFormat: String, CaseIterable, Sendable {
    case csv, json

    public func render(_ rows: [ExportRow]) throws -> String {
        switch self {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try encoder.encode(rows), as: UTF8.self) + "\n"
        case .csv:
            let events = Set(rows.flatMap { $0.counters.keys }).sorted()
            // The architecture columns of the spaces present (none for NB201 alone).
            let spaces = Set(rows.map(\.space)).sorted().compactMap(SpaceName.init(rawValue:))
            let archColumns = spaces.flatMap(\.space.tableColumns)
            let header = ["device", "label", "session", "space", "arch_index", "arch_string"] + archColumns + ["role", "batch", "threads",
                          "repetitions", "median_ms", "mean_ms", "p10_ms", "p90_ms", "mad_ms", "cv",
                          "cpu_median_ms", "cpu_mean_ms", "cpu_p10_ms", "cpu_p90_ms", "cpu_cv", "cpu_absent_reason",
                          "latency_clock", "steal_ms", "involuntary_switches", "host_noise_absent_reason", "attempts", "unstable",
                          "energy_j_per_inference", "energy_source", "energy_absent_reason"]
                + events.map { "\($0)_per_inference" } + ["counters_absent_reason"]
            var lines = [CSVTable.record(header)]
            func cell(_ v: Any?) -> String { v.map { "\($0)" } ?? "" }
            for r in rows {
                var fields: [Any?] = [r.device, r.label, r.session, r.space, r.arch_index, r.arch_string]
                fields += archColumns.map { r.arch_columns[$0] }
                fields += [r.role, r.batch,
                                      r.threads, r.repetitions, r.median_ms, r.mean_ms, r.p10_ms, r.p90_ms, r.mad_ms, r.cv,
                                      r.cpu_median_ms, r.cpu_mean_ms, r.cpu_p10_ms, r.cpu_p90_ms, r.cpu_cv, r.cpu_absent_reason,
                                      r.latency_clock, r.steal_ms, r.involuntary_switches, r.host_noise_absent_reason, r.attempts, r.unstable ? 1 : 0, r.energy_j_per_inference, r.energy_source,
                                      r.energy_absent_reason]
                fields += events.map { r.counters[$0] ?? nil }
                fields.append(r.counters_absent_reason.isEmpty ? nil
                              : r.counters_absent_reason.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
                lines.append(CSVTable.record(fields.map(cell)))
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
