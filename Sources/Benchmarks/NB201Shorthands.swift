import Autodiff
import DataFiles
import NB201Space
import Evaluation
import Search
import SearchSpaces

// NB201 shorthands of the generic engine, for the NB201 workflows and tests.

extension SurrogateAccuracy where Space == NB201SearchSpace {
    /// An NB201 surrogate objective, gated at NB201's chance gate.
    public convenience init(_ surrogate: AccuracySurrogate, mode: AccuracyMode = .surrogate) throws {
        try self.init(surrogate, space: NB201SearchSpace(), mode: mode, chanceGate: NB201Benchmark.chanceGate)
    }
}

extension FrontGenerator where Space == NB201SearchSpace {
    /// An NB201 generator with a surrogate's estimates.
    public init(hypernetwork: Hypernetwork, surrogate: AccuracySurrogate) {
        self.init(space: NB201SearchSpace(), hypernetwork: hypernetwork, surrogate: surrogate)
    }

    /// One NB201 front with official indices.
    public func front(for device: SearchDevice, preferences count: Int, index: NB201Index? = nil) -> [FrontRow] {
        front(for: device, preferences: count, tableIndex: index.map { index in { index.index(of: $0) } })
    }
}

extension MODNASSearch where Space == NB201SearchSpace {
    /// An NB201 search in surrogate mode.
    public convenience init(devices: [SearchDevice], surrogate: AccuracySurrogate, configuration: SearchConfiguration) throws {
        try self.init(space: NB201SearchSpace(), devices: devices, accuracy: try SurrogateAccuracy(surrogate), configuration: configuration)
    }

    /// An NB201 search with any accuracy objective.
    public convenience init(devices: [SearchDevice], accuracy: any AccuracyObjective<NB201Architecture>, configuration: SearchConfiguration) throws {
        try self.init(space: NB201SearchSpace(), devices: devices, accuracy: accuracy, configuration: configuration)
    }
}

extension Fronts {
    /// Writes NB201 rows.
    public static func write(_ rows: [FrontRow], to path: String) throws { try write(rows, space: NB201SearchSpace(), to: path) }

    /// Reads and checks an NB201 fronts CSV against the official index.
    public static func read(_ path: String, index: NB201Index) throws -> [FrontRow] { try read(path, space: NB201SearchSpace()) }

    /// The rows of a parsed fronts table, each checked (columns, numbers, ranges, arch strings).
    public static func rows(of table: CSVTable, index: NB201Index) throws -> [FrontRow] { try rows(of: table, space: NB201SearchSpace()) }
}

extension HypernetworkFile {
    /// An NB201 front generator.
    public func generator() throws -> FrontGenerator<NB201SearchSpace> { try generator(space: NB201SearchSpace()) }
}

extension AccuracySurrogate {
    /// Fits an NB201 surrogate.
    public static func fit(architectures: [NB201Architecture], errors: [Double], queried: [Int], source: String,
                           chanceError: Double, ensembleSize: Int = 3, seed: UInt64 = 0) -> AccuracySurrogate {
        fit(space: NB201SearchSpace(), architectures: architectures, errors: errors, queried: queried, source: source,
            chanceError: chanceError, ensembleSize: ensembleSize, seed: seed)
    }

    /// Estimated test error (%) of each NB201 architecture.
    public func errors(_ architectures: [NB201Architecture]) -> [Double] { errors(architectures, in: NB201SearchSpace()) }
}

extension FrontRow {
    /// An NB201 row (the official index is always known).
    public init(device: String, preferenceIndex: Int, preference: [Double], archIndex: Int, architecture: NB201Architecture,
                predictedLatencyMs: Double, estimatedLoss: Double?) {
        self.init(device: device, preferenceIndex: preferenceIndex, preference: preference, archIndex: archIndex,
                  architecture: architecture.string, predictedLatencyMs: predictedLatencyMs, estimatedLoss: estimatedLoss)
    }
}
