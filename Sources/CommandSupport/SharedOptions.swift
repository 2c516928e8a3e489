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
