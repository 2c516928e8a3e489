import SpaceCore

extension ArchitectureEncoding {
    /// OFA: the 160 entries of `OFASearchSpace`'s encoding, in which a skipped layer's kernel and
    /// expand entries are zero (relaxed: weighted by the probability that its stage keeps it);
    /// then per stage its layer count, Σ expand ratio and Σ k²/9 over its layers; then r/224 and
    /// (r/224)², and the network's layer count.
    public static let ofa: ArchitectureEncoding = {
        let slots = OFAArchitecture.slotCount, perStage = OFAArchitecture.maxDepth, stages = OFAArchitecture.stageCount
        let expandsAt = 3 * slots, resolutionsAt = 6 * slots + 3 * stages
        let structure = resolutionsAt + OFAArchitecture.resolutionChoices.count
        return ArchitectureEncoding(name: "ofa-onehot160+structure18", space: .ofa, inputs: structure, features: structure + 3 * stages + 3) { set in
            for slot in 0..<slots {
                let stage = slot / perStage
                for (k, kernel) in OFAArchitecture.kernelChoices.enumerated() {
                    set(structure + stage, 3 * slot + k, 1)
                    set(structure + 2 * stages + stage, 3 * slot + k, Float(kernel * kernel) / 9)
                    set(structure + 3 * stages + 2, 3 * slot + k, 1)
                }
                for (k, expand) in OFAArchitecture.expandChoices.enumerated() {
                    set(structure + stages + stage, expandsAt + 3 * slot + k, Float(expand))
                }
            }
            for (k, r) in OFAArchitecture.resolutionChoices.enumerated() {
                let scale = Float(r) / 224
                set(structure + 3 * stages, resolutionsAt + k, scale)
                set(structure + 3 * stages + 1, resolutionsAt + k, scale * scale)
            }
        }
    }()
}
