import Autodiff
import DeviceModel
import Foundation
import SearchSpaces

/// A latency predictor loaded from a predictor file.
public final class LatencyPredictor {
    public let file: PredictorFile

    public init(file: PredictorFile) { self.file = file }

    /// Loads and checks `path`.
    public convenience init(path: String) throws { self.init(file: try PredictorFile.load(path)) }

    /// The objective for one device: an MLP predictor accepts only its own device (or none); a
    /// meta predictor needs the device's features (`input`: their normalised form when the
    /// caller has it already).
    public func objective(device: DeviceFeatures?, input: DeviceInput? = nil) throws -> LatencyObjective {
        switch file.kind {
        case .mlp:
            if let device, let own = file.device, device.device != own {
                throw PredictorError.deviceMismatch(predictor: own, device: device.device)
            }
            return LatencyObjective(ensemble: file.ensemble, device: nil)
        case .meta:
            guard let device else {
                throw PredictorError.badLatency(device: "?", reason: "a meta predictor needs --device-features")
            }
            // The space first: features of another space also have other references.
            let normalised = try input ?? DeviceInput(device, space: file.space, length: file.referenceArchIndices.count)
            guard device.referenceArchIndices == file.referenceArchIndices else {
                throw PredictorError.wrongReferences(device: device.device, predictor: file.referenceArchIndices, features: device.referenceArchIndices)
            }
            return LatencyObjective(ensemble: file.ensemble, device: normalised)
        }
    }
}

/// A device's latency as a differentiable function of the (relaxed) 30-dimensional encoding.
public struct LatencyObjective: Sendable {
    let ensemble: [Regressor]
    let device: DeviceInput?

    /// Predicted milliseconds for each encoding (rows of 30 values).
    public func milliseconds(_ encodings: [[Float]]) -> [Double] {
        guard !encodings.isEmpty else { return [] }
        let extra = device?.values ?? []
        let width = ArchitectureEncoding.featureCount + extra.count
        let rows = Tensor(shape: [encodings.count, width], scalars: encodings.flatMap { ArchitectureEncoding.features($0) + extra })
        return ensemble.meanPrediction(rows).map { Foundation.exp($0 + Double(device?.logScale ?? 0)) }
    }

    /// Predicted milliseconds for architectures.
    public func milliseconds(_ architectures: [NB201Architecture]) -> [Double] {
        milliseconds(architectures.map(\.oneHotEncoding))
    }

    /// The predicted milliseconds at one encoding and their gradient with respect to it.
    public func evaluate(_ encoding: [Float]) -> (milliseconds: Double, gradient: [Float]) {
        let extra = device?.values ?? []
        let (log, gradient) = ensemble.meanValueAndGradient(ArchitectureEncoding.features(encoding) + extra)
        let ms = Foundation.exp(Double(log + (device?.logScale ?? 0)))
        // Only the architecture part of the input gradient pulls back to the encoding.
        return (ms, ArchitectureEncoding.pullback(Array(gradient.prefix(ArchitectureEncoding.featureCount))).map { $0 * Float(ms) })
    }
}
