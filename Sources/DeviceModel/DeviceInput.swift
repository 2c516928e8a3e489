import Foundation

/// The one normalisation of a device's features for the networks that take a device as input
/// (the meta predictor and the hypernetwork): log reference latencies centred on their mean
/// (the device's shape), then the mean itself (its absolute scale, kept from the raw milliseconds).
public struct DeviceInput: Equatable, Sendable {
    public var values: [Float]
    /// Mean log reference latency: predictions are relative to it.
    public var logScale: Float

    /// Width of the input for `references` reference architectures.
    public static func width(references: Int) -> Int { references + 1 }

    /// Checks and converts a feature file: right space and length, finite positive latencies.
    public init(_ features: DeviceFeatures, space: String, length: Int) throws {
        guard features.space == space else {
            throw DeviceModelError.wrongSpace(device: features.device, expected: space, found: features.space)
        }
        guard features.values.count == length else {
            throw DeviceModelError.wrongFeatureLength(device: features.device, expected: length, found: features.values.count)
        }
        guard features.values.allSatisfy(DeviceFeatures.latencyRangeMs.contains) else {
            throw DeviceModelError.badLatency(device: features.device, reason: "latencies must be finite milliseconds within 0.001…1e9, got \(features.values)")
        }
        let logs = features.values.map { Float(Foundation.log($0)) }
        let scale = logs.reduce(0, +) / Float(logs.count)
        logScale = scale
        values = logs.map { $0 - scale } + [scale]
    }
}
