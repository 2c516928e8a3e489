import DataFiles
import Foundation
import SearchSpaces

/// One architecture to measure and why.
public struct PlannedArchitecture: Equatable, Sendable {
    /// The canonical string (the store's key).
    public var string: String
    /// The index in the space's benchmark table; nil for architectures outside it.
    public var index: Int?
    /// "reference", "listed" (from --archs) or "sample".
    public var role: String
}

/// A `--shard i/n` choice: this run takes every n-th entry of the list, starting at i.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = Shard(index: 0, count: 1)

    /// Parses "i/n" with 0 ≤ i < n.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { throw ProfilingError.malformedShard(text) }
        guard n >= 1, i >= 0, i < n else { throw ProfilingError.badShard(text) }
        self.init(index: i, count: n)
    }

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// The entries of `list` at positions ≡ index (mod count).
    public func select<T>(_ list: [T]) -> [T] {
        list.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}

/// What a `collect` run measures: the references first, then the listed and sampled architectures.
public enum CollectionPlan {
    /// References, then this shard of (listed + `samples` seeded uniform samples); each
    /// architecture appears once, under its first role.
    public static func make<S: SearchSpace>(space: S, samples: Int, seed: UInt64, listed: [S.Architecture],
                                            shard: Shard) throws -> [(planned: PlannedArchitecture, architecture: S.Architecture)] {
        let indexOf = try space.tableIndexer()
        var seen = Set<S.Architecture>()
        var plan: [(planned: PlannedArchitecture, architecture: S.Architecture)] = []
        func add(_ arch: S.Architecture, _ role: String) {
            if seen.insert(arch).inserted {
                plan.append((PlannedArchitecture(string: space.string(of: arch), index: indexOf(arch), role: role), arch))
            }
        }
        for ref in try space.referenceArchitectures() { add(ref.architecture, "reference") }
        let rest = listed.map { ($0, "listed") } + space.sample(count: samples, seed: seed).map { ($0, "sample") }
        for (arch, role) in shard.select(rest) { add(arch, role) }
        return plan
    }

    /// Reads an `--archs` file: a CSV with an `arch_string` column (or the space's own columns,
    /// OFA's `ks,e,d,r`), or one string per line (blank lines and `#` comments skipped).
    public static func readArchitectureList<S: SearchSpace>(_ path: String, space: S) throws -> [S.Architecture] {
        let text: String
        do { text = try GzipFile.readText(path) } catch {
            throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "\(error)")
        }
        return try parseArchitectureList(text, path: path, space: space)
    }

    /// The architectures of a list's text; `path` names it in errors.
    public static func parseArchitectureList<S: SearchSpace>(_ text: String, path: String, space: S) throws -> [S.Architecture] {
        let lines = TextLines.split(text).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let header = lines.first.map { $0.split(separator: ",").map(String.init) } ?? []
        if header.contains("arch_string") || (!space.tableColumns.isEmpty && space.tableColumns.allSatisfy(header.contains)) {
            let table: CSVTable
            do { table = try CSVTable(text: text, path: path) } catch {
                throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "\(error)")
            }
            // A bad row's error names the file and the line.
            let archs = try space.architectures(in: table)
            guard !archs.isEmpty else { throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "no architectures in the file") }
            return archs
        }
        var archs: [S.Architecture] = []
        for (k, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            do { archs.append(try space.parse(line)) } catch {
                throw ProfilingError.badArchitectureList(path: path, line: k + 1, reason: "\(error)")
            }
        }
        guard !archs.isEmpty else { throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "no architectures in the file") }
        return archs
    }
}
