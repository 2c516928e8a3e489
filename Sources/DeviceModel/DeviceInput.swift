import Foundation

/// The one normalisation of a device's features for the networks that take a device as input
/// (the meta predictors and the hypernetwork): a metric's log reference values centred on their
/// mean (the device's shape), then the mean itself (its absolute scale, kept from the raw values).
public struct DeviceInput: Equatable, Sendable {
    public var values: [Float]
    /// Mean log reference value: predictions are relative to it.
    public var logScale: Float

    /// Width of the input for `references` reference architectures.
    public static func width(references: Int) -> Int { references + 1 }

    /// Checks and converts a feature file's vector of `metric`: right space and length, plausible values.
    public init(_ features: DeviceFeatures, space: String, length: Int, metric: DeviceMetric = .latency) throws {
        guard features.space == space else {
            throw DeviceModelError.wrongSpace(device: features.device, expected: space, found: features.space)
        }
        let raw = try features.values(of: metric)
        guard raw.count == length else {
            throw DeviceModelError.wrongFeatureLength(device: features.device, expected: length, found: raw.count)
        }
        guard raw.allSatisfy(metric.plausibleRange.contains) else {
            let range = metric == .latency ? "finite milliseconds within 0.001…1e9" : "finite joules within 1e-9…1e7"
            throw DeviceModelError.unusableFeatures(device: features.device, reason: "\(metric == .latency ? "latencies" : "energies") must be \(range), got \(raw)")
        }
        let logs = raw.map { Float(Foundation.log($0)) }
        let scale = logs.reduce(0, +) / Float(logs.count)
        logScale = scale
        values = logs.map { $0 - scale } + [scale]
    }
}
