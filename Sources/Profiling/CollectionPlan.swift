import DataFiles
import Foundation
import SearchSpaces

/// One architecture to measure and why.
public struct PlannedArchitecture: Equatable, Sendable {
    public var architecture: NB201Architecture
    public var index: Int
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
    /// The shipped reference architectures (official index and architecture).
    public static func references() throws -> [(index: Int, architecture: NB201Architecture)] {
        try EngineBenchmark.referenceArchitectures().map { ($0.index, $0.architecture) }
    }

    /// The shipped reference architectures as (official index, NB201 string), the form the store takes.
    public static func referenceStrings() throws -> [(index: Int, string: String)] {
        try references().map { ($0.index, $0.architecture.string) }
    }

    /// References, then this shard of (listed + `samples` seeded uniform samples); each
    /// architecture appears once, under its first role.
    public static func make(index: NB201Index, samples: Int, seed: UInt64, listed: [NB201Architecture],
                            shard: Shard) throws -> [PlannedArchitecture] {
        var seen = Set<NB201Architecture>()
        var plan: [PlannedArchitecture] = []
        func add(_ arch: NB201Architecture, _ role: String) {
            if seen.insert(arch).inserted { plan.append(PlannedArchitecture(architecture: arch, index: index.index(of: arch), role: role)) }
        }
        for ref in try references() { add(ref.architecture, "reference") }
        let rest = listed.map { ($0, "listed") } + NB201Sampler.distinct(count: samples, seed: seed).map { ($0, "sample") }
        for (arch, role) in shard.select(rest) { add(arch, role) }
        return plan
    }

    /// Reads an `--archs` file: a CSV with an `arch_string` column, or one string per line
    /// (blank lines and `#` comments skipped).
    public static func readArchitectureList(_ path: String) throws -> [NB201Architecture] {
        let text: String
        do { text = try GzipFile.readText(path) } catch {
            throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "\(error)")
        }
        return try parseArchitectureList(text, path: path)
    }

    /// The architectures of a list's text (CSV with an `arch_string` column, or one string per
    /// line, `#` comments); `path` names it in errors.
    public static func parseArchitectureList(_ text: String, path: String) throws -> [NB201Architecture] {
        let lines = TextLines.split(text).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let header = lines.first, header.split(separator: ",").contains(where: { $0 == "arch_string" }) {
            let table: CSVTable
            do { table = try CSVTable(text: text, path: path) } catch {
                throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "\(error)")
            }
            return try table.column("arch_string").enumerated().map { k, s in
                do { return try NB201Architecture(parsing: s) } catch {
                    throw ProfilingError.badArchitectureList(path: path, line: k + 2, reason: "\(error)")
                }
            }
        }
        var archs: [NB201Architecture] = []
        for (k, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            do { archs.append(try NB201Architecture(parsing: line)) } catch {
                throw ProfilingError.badArchitectureList(path: path, line: k + 1, reason: "\(error)")
            }
        }
        guard !archs.isEmpty else { throw ProfilingError.badArchitectureList(path: path, line: 0, reason: "no architectures in the file") }
        return archs
    }
}
