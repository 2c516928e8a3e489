import SpaceCore

extension ArchitectureEncoding {
    /// GPT: the 80 entries of HW-GPT-Bench's one-hot layout (unused layer slots zero; relaxed:
    /// weighted by the probability that the layer count keeps them); then the layer count, Σ heads,
    /// Σ MLP ratios over the layers, E/768 and (E/768)². The products that dominate the cost
    /// (E·Σheads, E²·Σratios) are not linear in the encoding; the MLP learns them.
    public static let gpt: ArchitectureEncoding = {
        let width = GPTArchitecture.encodingWidth, slots = GPTArchitecture.layerCounts.max()!
        return ArchitectureEncoding(name: "gpt-onehot80+structure5", space: .gpt, inputs: width, features: width + 5) { set in
            for slot in 0..<slots {
                for (k, ratio) in GPTArchitecture.mlpRatios.enumerated() { set(width + 2, 6 + 3 * slot + k, Float(ratio)) }
                for (k, heads) in GPTArchitecture.headCounts.enumerated() {
                    set(width, 6 + 3 * slots + 3 * slot + k, 1)
                    set(width + 1, 6 + 3 * slots + 3 * slot + k, Float(heads))
                }
            }
            for (k, e) in GPTArchitecture.embeddingWidths.enumerated() {
                let scale = Float(e) / 768
                set(width + 3, k, scale)
                set(width + 4, k, scale * scale)
            }
        }
    }()
}
