/// Multiply–accumulate and parameter counts of a network: MACs of the convolutions and linear
/// layers; parameters are all trainable scalars (weights, biases, BN scale and shift).
public struct ArchitectureCost: Equatable, Sendable {
    public var multiplyAccumulates = 0
    public var parameters = 0

    public init(multiplyAccumulates: Int = 0, parameters: Int = 0) {
        self.multiplyAccumulates = multiplyAccumulates
        self.parameters = parameters
    }

    /// Floating-point operations (2 per multiply–accumulate), the unit of GFLOP/s figures.
    public var floatingPointOperations: Int { 2 * multiplyAccumulates }

    /// Adds a convolution (dense when `groups` is 1, depthwise when it equals the channels).
    public mutating func addConvolution(_ inC: Int, _ outC: Int, kernel k: Int, outSide: Int, groups: Int = 1,
                                        bias: Bool = false, normalized: Bool) {
        multiplyAccumulates += inC / groups * outC * k * k * outSide * outSide
        parameters += inC / groups * outC * k * k + (bias ? outC : 0) + (normalized ? 2 * outC : 0)
    }

    /// Adds a fully connected layer.
    public mutating func addLinear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool) {
        multiplyAccumulates += inFeatures * outFeatures
        parameters += inFeatures * outFeatures + (bias ? outFeatures : 0)
    }
}
