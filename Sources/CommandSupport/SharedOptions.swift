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
