import Autodiff
import DeviceModel
import Foundation
import SearchSpaces

/// A device's latency or energy predictor loaded from a predictor file.
public final class DevicePredictor {
    public let file: PredictorFile

    public init(file: PredictorFile) { self.file = file }

    /// Loads and checks `path`.
    public convenience init(path: String) throws { self.init(file: try PredictorFile.load(path)) }

    /// The objective for one device: an MLP predictor accepts only its own device (or none); a
    /// meta predictor needs the device's features, with a vector of the predictor's metric
    /// (`input`: their normalised form when the caller has it already).
    public func objective(device: DeviceFeatures?, input: DeviceInput? = nil) throws -> DeviceObjective {
        let encoding = file.architectureEncoding
        switch file.kind {
        case .mlp:
            if let device {
                guard device.space == file.space else {
                    throw DeviceModelError.wrongSpace(device: device.device, expected: file.space, found: device.space)
                }
                if let own = file.device, device.device != own { throw PredictorError.deviceMismatch(predictor: own, device: device.device) }
            }
            return DeviceObjective(ensemble: file.ensemble, encoding: encoding, metric: file.predictedMetric, device: nil)
        case .meta:
            guard let device else {
                throw PredictorError.unusableFeatures(device: "?", reason: "a meta predictor needs --device-features")
            }
            // The space first: features of another space also have other references.
            let normalised = try input ?? DeviceInput(device, space: file.space, length: file.referenceArchIndices.count, metric: file.predictedMetric)
            guard device.referenceArchIndices == file.referenceArchIndices else {
                throw PredictorError.wrongReferences(device: device.device, predictor: file.referenceArchIndices, features: device.referenceArchIndices)
            }
            return DeviceObjective(ensemble: file.ensemble, encoding: encoding, metric: file.predictedMetric, device: normalised)
        }
    }
}

/// A device's latency (ms) or energy (J) as a differentiable function of the space's (relaxed) encoding.
public struct DeviceObjective: Sendable {
    let ensemble: [Regressor]
    public let encoding: ArchitectureEncoding
    /// What the predictions are, in its unit.
    public let metric: DeviceMetric
    let device: DeviceInput?

    /// The predicted values for each encoding (rows of `encoding.inputCount` values).
    public func predictions(_ encodings: [[Float]]) -> [Double] {
        guard !encodings.isEmpty else { return [] }
        let extra = device?.values ?? []
        let width = encoding.featureCount + extra.count
        let rows = Tensor(shape: [encodings.count, width], scalars: encodings.flatMap { encoding.features($0) + extra })
        return ensemble.meanPrediction(rows).map { Foundation.exp($0 + Double(device?.logScale ?? 0)) }
    }

    /// The predicted values for architectures of `space` (the predictor's space).
    public func predictions<S: SearchSpace>(_ architectures: [S.Architecture], in space: S) -> [Double] {
        precondition(space.name == encoding.space, "a \(encoding.space) predictor asked about \(space.name) architectures")
        return predictions(architectures.map(space.oneHotEncoding(of:)))
    }

    /// The predicted value at one encoding and its gradient with respect to it.
    public func evaluate(_ encoding: [Float]) -> (value: Double, gradient: [Float]) {
        let extra = device?.values ?? []
        let (log, gradient) = ensemble.meanValueAndGradient(self.encoding.features(encoding) + extra)
        let value = Foundation.exp(Double(log + (device?.logScale ?? 0)))
        // Only the architecture part of the input gradient pulls back to the encoding.
        return (value, self.encoding.pullback(Array(gradient.prefix(self.encoding.featureCount))).map { $0 * Float(value) })
    }
}
