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

extension SpaceOption {
    /// Refuses, in one line, a space that `command` does not handle yet.
    public func require(_ supported: [SpaceName], for command: String) throws {
        guard supported.contains(space) else {
            throw ValidationError("\(command) works on --space \(supported.map(\.rawValue).joined(separator: "|")) so far; "
                                  + "latency predictors and the search over \(space.shortName) are not built yet")
        }
    }
}
