import GPTSpace
import NB201Space
import OFASpace
@_exported import SpaceCore

/// The registry: the one place that maps a space's name to its module's space (adding a space
/// is its module, its `SpaceName` case and its line here).
extension SpaceName {
    /// The space with this name (NB201 at its benchmark shape).
    public var space: any SearchSpace {
        switch self {
        case .nb201: return NB201SearchSpace()
        case .ofa: return OFASearchSpace()
        case .gpt: return GPTSearchSpace()
        }
    }

    /// The space at the network shape `setting` names (its defaults for unset parameters); a
    /// parameter of another space, or a bad value, is refused in one line.
    public func searchSpace(shape setting: NetworkShape) throws -> any SearchSpace { try space.reshaped(setting) }

    /// What the space is, for help texts and tables.
    public var title: String { space.title }

    /// Rows of the space's benchmark table (the range of `arch_index`).
    public var tableSize: Int { space.tableSize }
}
