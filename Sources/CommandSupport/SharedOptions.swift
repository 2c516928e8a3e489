import ArgumentParser
import SearchSpaces

extension SpaceName: ExpressibleByArgument {}

/// `--space`: the search space a command works in, shared by the three tools.
public struct SpaceOption: ParsableArguments {
    @Option(help: ArgumentHelp("Search space: \(SpaceName.allCases.map { "\($0) (\($0.title))" }.joined(separator: ", ")).",
                               valueName: "space"))
    public var space: SpaceName = .nb201

    public init() {}
}

/// `--db`: the SQLite profile database (`modnas-profile` writes it; training reads it).
public struct DatabaseOption: ParsableArguments {
    @Option(help: ArgumentHelp("SQLite profile database.", valueName: "file")) public var db = "profiles.sqlite"
    public init() {}
}

/// `--threads`: OpenBLAS threads (the engine's own kernels are single-threaded).
public struct ThreadsOption: ParsableArguments {
    @Option(help: "OpenBLAS threads (the engine's own kernels are single-threaded).") public var threads = 1
    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1") }
    }
}

/// The network shape flags of every space; a command passes the ones given to the space, which
/// refuses another space's flag in one line.
public struct ShapeOption: ParsableArguments {
    @Option(help: "NB201 network channels C (default 16).") public var channels: Int?
    @Option(help: "NB201 cells per stage N (default 5).") public var cells: Int?
    @Option(help: "NB201 input resolution (default 32; an OFA architecture carries its own).") public var resolution: Int?
    @Option(help: "GPT tokens per sequence: the prefill's input, or the key–value cache a decoding step attends to (default 64).")
    public var sequenceLength: Int?
    @Option(help: "GPT pass timed: prefill (the whole sequence: time to the first token) or decode (one new token after the sequence: time per generated token) (default prefill).")
    public var phase: String?
    @Option(help: "GPT vocabulary: the token ids drawn and the size of the embedding and LM head (default HW-GPT-Bench's 50,254).")
    public var vocabulary: Int?

    public init() {}

    /// The flags given, by the names the spaces read.
    public var shape: NetworkShape {
        var p: [String: String] = [:]
        p["channels"] = channels.map(String.init)
        p["cells"] = cells.map(String.init)
        p["resolution"] = resolution.map(String.init)
        p["sequence-length"] = sequenceLength.map(String.init)
        p["phase"] = phase
        p["vocabulary"] = vocabulary.map(String.init)
        return NetworkShape(p)
    }

    /// `space` at the shape the flags give.
    public func searchSpace(_ space: SpaceName) throws -> any SearchSpace {
        do { return try space.searchSpace(shape: shape) } catch let error as ShapeError { throw ValidationError("\(error)") }
    }
}
