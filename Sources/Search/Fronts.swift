import DataFiles
import DeviceModel
import Foundation
import SearchSpaces

/// One architecture of a device's front (one row of `fronts.csv`, format in docs/formats.md).
public struct FrontRow: Equatable, Sendable {
    public var device: String
    public var preferenceIndex: Int
    public var preference: [Double]
    /// The row of the space's benchmark table (NB201: the official index); nil outside the table.
    public var archIndex: Int?
    /// The canonical architecture string of the search's space.
    public var architecture: String
    /// The space's table columns (OFA: ks, e, d, r), written beside `arch_string`.
    public var tableValues: [String]
    /// From the latency predictor, never measured.
    public var predictedLatencyMs: Double
    /// The accuracy objective's loss (test error %, perplexity) from the search's estimate (surrogate,
    /// benchmark predictor or supernet), never a table's value; nil where the search has no
    /// estimate (written as an empty cell).
    public var estimatedLoss: Double?
    /// The costs the search minimised beside latency: the device's predicted energy (J, never
    /// measured; absent, an empty cell, for a device without energy), the device-free counts
    /// (parameters, FLOPs) as the space's cost counter counts them.
    public var extraCosts: [CostObjective: Double]

    public init(device: String, preferenceIndex: Int, preference: [Double], archIndex: Int?, architecture: String, tableValues: [String] = [],
                predictedLatencyMs: Double, extraCosts: [CostObjective: Double] = [:], estimatedLoss: Double?) {
        self.device = device
        self.preferenceIndex = preferenceIndex
        self.preference = preference
        self.archIndex = archIndex
        self.architecture = architecture
        self.tableValues = tableValues
        self.predictedLatencyMs = predictedLatencyMs
        self.extraCosts = extraCosts
        self.estimatedLoss = estimatedLoss
    }

    /// The row as a line of a fronts file of `objectives`.
    func csvLine(_ objectives: ObjectiveList) -> String {
        CSVTable.record([device, String(preferenceIndex)] + preference.map { String(format: "%.6f", $0) }
                        + [archIndex.map(String.init) ?? "", architecture] + tableValues + [String(format: "%.6f", predictedLatencyMs)]
                        + objectives.extraCosts.map { cost in extraCosts[cost].map(cost.text) ?? "" }
                        + [estimatedLoss.map { String(format: "%.4f", $0) } ?? ""])
    }
}

/// The evaluation's preference vectors and the fronts file.
public enum Fronts {
    /// The columns of a fronts file of `space` and `objectives`: a preference column per
    /// objective, the space's table columns after `arch_string`, the predicted energy and the
    /// device-free costs after the predicted latency.
    public static func columns<S: SearchSpace>(of space: S, objectives: ObjectiveList = .errorAndLatency) -> [String] {
        ["device", "preference_index"] + preferenceColumns(objectives) + ["arch_index", "arch_string"] + space.tableColumns
            + ["predicted_latency_ms"] + objectives.extraCosts.map(\.frontsColumn) + [estimatedLossColumn(objectives.loss)]
    }

    /// The column of the search's estimated loss: `estimated_test_error_percent`, `estimated_perplexity`.
    public static func estimatedLossColumn(_ loss: AccuracyLoss) -> String { "estimated_" + loss.rawValue }
    /// The column files written before the loss convention hold instead: the estimated accuracy
    /// (%), read as the loss 100 − accuracy.
    static let legacyAccuracyColumn = "estimated_accuracy"

    static func preferenceColumns(_ objectives: ObjectiveList) -> [String] { ["r_accuracy"] + objectives.costs.map { "r_\($0.rawValue)" } }

    /// The objectives of a fronts table, from its preference columns in their order and its
    /// loss column (a file of before the loss convention has the accuracy column: test error).
    public static func objectives(of table: CSVTable) throws -> ObjectiveList {
        let losses = AccuracyLoss.allCases.filter { table.header.contains(estimatedLossColumn($0)) }
        guard losses.count <= 1 else { throw SearchError.badFronts(path: table.path, line: 1, reason: "more than one estimated loss column") }
        guard let loss = losses.first ?? (table.header.contains(legacyAccuracyColumn) ? .testError : nil) else {
            let columns = AccuracyLoss.allCases.map(estimatedLossColumn).joined(separator: " or ")
            throw SearchError.badFronts(path: table.path, line: 1, reason: "no column \(columns)")
        }
        let named = table.header.filter { $0.hasPrefix("r_") && $0 != "r_accuracy" }
        let costs = try named.map { column in
            guard let cost = CostObjective(rawValue: String(column.dropFirst(2))) else {
                throw SearchError.badFronts(path: table.path, line: 1, reason: "unknown preference column '\(column)'")
            }
            return cost
        }
        guard Set(costs).count == costs.count else {
            throw SearchError.badFronts(path: table.path, line: 1, reason: "a preference column is named twice")
        }
        // Without any: the columns of the loss and latency, which the file is then checked for.
        return ObjectiveList(costs: costs.isEmpty ? [.latency] : costs, loss: loss)
    }

    /// The space a fronts table is of, from its columns: the space of its loss whose own table
    /// columns it holds (OFA's carry ks, e, d, r), the one with most of them.
    public static func space(of table: CSVTable) throws -> SpaceName {
        let loss = try objectives(of: table).loss
        let candidates = SpaceName.allCases.map(\.space).filter { $0.accuracyLoss == loss && $0.tableColumns.allSatisfy(table.header.contains) }
        guard let best = candidates.max(by: { $0.tableColumns.count < $1.tableColumns.count }) else {
            throw SearchError.badFronts(path: table.path, line: 1, reason: "its columns fit no space's fronts; name the benchmark with --benchmark")
        }
        return best.name
    }

    /// The evaluation's preference vectors over `objectives` objectives. Two: `count` vectors
    /// r = (cos θ, sin θ) with θ evenly spaced over [0, π/2] (both extremes included). More: Das and
    /// Dennis's simplex lattice (1998), every r with Σr = 1 and each rₘ a multiple of 1/H, with the
    /// smallest H that gives at least `count` (three objectives, 24: H = 6, 28 vectors).
    public static func preferences(count: Int, objectives: Int = 2) -> [[Double]] {
        if objectives == 2 {
            return (0..<count).map { k in
                let theta = count == 1 ? Double.pi / 4 : Double.pi / 2 * Double(k) / Double(count - 1)
                return [cos(theta), sin(theta)]
            }
        }
        var divisions = 1
        while simplexLattice(objectives: objectives, divisions: divisions).count < count { divisions += 1 }
        return simplexLattice(objectives: objectives, divisions: divisions)
    }

    /// Every vector of `objectives` multiples of 1 / `divisions` that sum to 1, the first objective's share descending.
    static func simplexLattice(objectives m: Int, divisions h: Int) -> [[Double]] {
        func compositions(_ total: Int, _ parts: Int) -> [[Int]] {
            parts == 1 ? [[total]] : (0...total).reversed().flatMap { first in compositions(total - first, parts - 1).map { [first] + $0 } }
        }
        return compositions(h, m).map { $0.map { Double($0) / Double(h) } }
    }

    /// Writes rows of `space` and `objectives` as CSV.
    public static func write<S: SearchSpace>(_ rows: [FrontRow], space: S, objectives: ObjectiveList = .errorAndLatency, to path: String) throws {
        let text = ([columns(of: space, objectives: objectives).joined(separator: ",")] + rows.map { $0.csvLine(objectives) }).joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Reads and checks a fronts CSV of `space` (index, string and table columns must agree).
    public static func read<S: SearchSpace>(_ path: String, space: S) throws -> [FrontRow] {
        try rows(of: try CSVTable(contentsOf: path), space: space)
    }

    /// The rows of a parsed fronts table of `space`, each checked (columns, numbers, ranges, arch
    /// strings, `arch_index` against the space's table, the table columns against the string).
    public static func rows<S: SearchSpace>(of table: CSVTable, space: S) throws -> [FrontRow] {
        let path = table.path
        let objectives = try self.objectives(of: table)
        // A file of before the loss convention: its accuracy column stands for the loss column.
        guard objectives.loss == space.accuracyLoss else {
            throw SearchError.badFronts(path: path, line: 1, reason: "its loss is \(objectives.loss.name), the \(space.name.shortName) space's \(space.accuracyLoss.name) (is this a fronts file of another space?)")
        }
        let lossColumn = estimatedLossColumn(objectives.loss)
        let legacy = !table.header.contains(lossColumn) && table.header.contains(legacyAccuracyColumn)
        let needed = columns(of: space, objectives: objectives).map { legacy && $0 == lossColumn ? legacyAccuracyColumn : $0 }
        for column in needed where !table.header.contains(column) {
            throw SearchError.badFronts(path: path, line: 1, reason: "no column '\(column)'"
                                        + (space.tableColumns.contains(column) ? " (is this a fronts file of another space than \(space.name)?)" : ""))
        }
        let at = Dictionary(uniqueKeysWithValues: try needed.map { ($0, try table.columnIndex($0)) })
        let tableIndex = try space.tableIndexer()
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
            let architecture: S.Architecture
            do { architecture = try space.parse(row[at["arch_string"]!]) } catch {
                throw SearchError.badFronts(path: path, line: line, reason: "\(error)")
            }
            let string = space.string(of: architecture), archIndex = tableIndex(architecture)
            guard row[at["arch_index"]!] == (archIndex.map(String.init) ?? "") else {
                let known = archIndex.map { "table index \($0)" } ?? "not in the \(space.name.shortName) table: leave arch_index empty"
                throw SearchError.badFronts(path: path, line: line, reason: "arch_index '\(row[at["arch_index"]!])' is not \(string) (\(known))")
            }
            let values = space.tableValues(of: architecture)
            for (column, value) in zip(space.tableColumns, values) where row[at[column]!] != value {
                throw SearchError.badFronts(path: path, line: line, reason: "\(column) '\(row[at[column]!])' does not match arch_string (\(value))")
            }
            let extraCosts = try objectives.extraCosts.compactMap { cost -> (CostObjective, Double)? in
                if let metric = cost.deviceMetric {
                    // A device without the metric (energy on a host without RAPL) has it absent.
                    guard !row[at[cost.frontsColumn]!].isEmpty else { return nil }
                    return (cost, try number(cost.frontsColumn, in: metric.plausibleRange))
                }
                let counted = space.cost(of: architecture)
                let value = try number(cost.frontsColumn, in: 0...1e18)
                guard value == cost.count(counted) else {
                    throw SearchError.badFronts(path: path, line: line, reason: "\(cost.frontsColumn) \(row[at[cost.frontsColumn]!]) is not arch_string's (\(String(format: "%.0f", cost.count(counted))))")
                }
                return (cost, value)
            }
            /// The row's estimated loss: the loss column, or in an older file 100 − the accuracy column.
            func estimatedLoss() throws -> Double? {
                let column = legacy ? legacyAccuracyColumn : lossColumn
                guard !row[at[column]!].isEmpty else { return nil }
                let value = try number(column, in: objectives.loss.plausibleRange)
                return legacy ? 100 - value : value
            }
            return FrontRow(device: row[at["device"]!], preferenceIndex: preferenceIndex,
                            preference: try preferenceColumns(objectives).map { try number($0, in: 0...1) }, archIndex: archIndex,
                            architecture: string, tableValues: values, predictedLatencyMs: try number("predicted_latency_ms", in: 0...1e9),
                            extraCosts: Dictionary(uniqueKeysWithValues: extraCosts),
                            estimatedLoss: try estimatedLoss())
        }
    }
}
