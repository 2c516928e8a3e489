import DataFiles
import DeviceModel
import Foundation
import SearchSpaces

/// One architecture of a device's front (one row of `fronts.csv`, format in docs/DESIGN.md).
public struct FrontRow: Equatable, Sendable {
    public static let header = "device,preference_index,r_accuracy,r_latency,arch_index,arch_string,predicted_latency_ms,estimated_accuracy"

    public var device: String
    public var preferenceIndex: Int
    public var preference: [Double]
    public var archIndex: Int
    public var architecture: NB201Architecture
    /// From the latency predictor, never measured.
    public var predictedLatencyMs: Double
    /// From the search's accuracy objective (%: surrogate or supernet), never the benchmark's
    /// value; nil where the search has no estimate (written as an empty cell).
    public var estimatedAccuracy: Double?

    public init(device: String, preferenceIndex: Int, preference: [Double], archIndex: Int, architecture: NB201Architecture,
                predictedLatencyMs: Double, estimatedAccuracy: Double?) {
        self.device = device
        self.preferenceIndex = preferenceIndex
        self.preference = preference
        self.archIndex = archIndex
        self.architecture = architecture
        self.predictedLatencyMs = predictedLatencyMs
        self.estimatedAccuracy = estimatedAccuracy
    }

    var csvLine: String {
        CSVTable.record([device, String(preferenceIndex), String(format: "%.6f", preference[0]), String(format: "%.6f", preference[1]),
         String(archIndex), architecture.string, String(format: "%.6f", predictedLatencyMs), estimatedAccuracy.map { String(format: "%.4f", $0) } ?? ""])
    }
}

/// The evaluation's preference vectors and the fronts file.
public enum Fronts {
    /// `count` vectors r = (cos θ, sin θ) with θ evenly spaced over [0, π/2] (both extremes included).
    public static func preferences(count: Int) -> [[Double]] {
        (0..<count).map { k in
            let theta = count == 1 ? Double.pi / 4 : Double.pi / 2 * Double(k) / Double(count - 1)
            return [cos(theta), sin(theta)]
        }
    }

    /// Writes rows as CSV.
    public static func write(_ rows: [FrontRow], to path: String) throws {
        let text = ([FrontRow.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Reads and checks a fronts CSV against the index (index and string must agree).
    public static func read(_ path: String, index: NB201Index) throws -> [FrontRow] {
        try rows(of: try CSVTable(contentsOf: path), index: index)
    }

    /// The rows of a parsed fronts table, each checked (columns, numbers, ranges, arch strings).
    public static func rows(of table: CSVTable, index: NB201Index) throws -> [FrontRow] {
        let path = table.path
        let needed = FrontRow.header.split(separator: ",").map(String.init)
        for column in needed where !table.header.contains(column) {
            throw SearchError.badFronts(path: path, line: 1, reason: "no column '\(column)'")
        }
        let at = Dictionary(uniqueKeysWithValues: try needed.map { ($0, try table.columnIndex($0)) })
        return try table.rows.enumerated().map { n, row in
            let line = n + 2
            func number(_ name: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
                guard let v = Double(row[at[name]!]), v.isFinite else {
                    throw SearchError.badFronts(path: path, line: line, reason: "'\(row[at[name]!])' in \(name) is not a number")
                }
                guard range.contains(v) else {
                    throw SearchError.badFronts(path: path, line: line, reason: "\(name) \(row[at[name]!]) is outside \(range.lowerBound)…\(range.upperBound)")
                }
                return v
            }
            do { try DeviceName.check(row[at["device"]!]) } catch {
                throw SearchError.badFronts(path: path, line: line, reason: "\(error)")
            }
            guard let preferenceIndex = Int(row[at["preference_index"]!]), (0...100_000).contains(preferenceIndex) else {
                throw SearchError.badFronts(path: path, line: line, reason: "preference_index '\(row[at["preference_index"]!])' is not an integer within 0…100000")
            }
            let architecture: NB201Architecture
            do { architecture = try NB201Architecture(parsing: row[at["arch_string"]!]) } catch {
                throw SearchError.badFronts(path: path, line: line, reason: "\(error)")
            }
            let archIndex = index.index(of: architecture)
            guard Int(row[at["arch_index"]!]) == archIndex else {
                throw SearchError.badFronts(path: path, line: line, reason: "arch_index \(row[at["arch_index"]!]) is not \(architecture.string) (official index \(archIndex))")
            }
            return FrontRow(device: row[at["device"]!], preferenceIndex: preferenceIndex,
                            preference: [try number("r_accuracy", in: 0...1), try number("r_latency", in: 0...1)], archIndex: archIndex,
                            architecture: architecture, predictedLatencyMs: try number("predicted_latency_ms", in: 0...1e9),
                            estimatedAccuracy: row[at["estimated_accuracy"]!].isEmpty ? nil : try number("estimated_accuracy", in: 0...100))
        }
    }
}
