import GPTSpace
import NB201Space
import OFASpace
@_exported import SpaceCore

/// The registry: the one place that maps a space's name to its module's space.
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
    public func searchSpace(shape setting: NetworkShape) throws -> any SearchSpace {
        switch self {
        case .nb201: return NB201SearchSpace(shape: try NB201NetworkShape(setting))
        case .ofa:
            try setting.check(known: [], space: self)
            return OFASearchSpace()
        case .gpt: return GPTSearchSpace(shape: try GPTNetworkShape(setting))
        }
    }

    /// What the space is, for help texts and tables.
    public var title: String {
        switch self {
        case .nb201: return "NAS-Bench-201 cell (CIFAR layout)"
        case .ofa: return "Once-for-All MobileNetV3, width 1.2 (ImageNet layout)"
        case .gpt: return "HW-GPT-Bench GPT-2 \"s\" (decoder-only Transformer)"
        }
    }

    /// Rows of the space's benchmark table (the range of `arch_index`).
    public var tableSize: Int {
        switch self {
        case .nb201: return NB201Architecture.spaceSize
        case .ofa: return OFASearchSpace.tableSize
        case .gpt: return GPTSearchSpace.tableSize
        }
    }
}
