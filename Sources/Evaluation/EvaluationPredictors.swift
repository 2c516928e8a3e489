import DataFiles
import DeviceModel
import Foundation
import Predictors
import SearchSpaces
import Search

/// The evaluation predictors shipped in `Predictors/evaluation`: per benchmark device and metric
/// an MLP trained on all the table's rows, which scores a front's architectures outside the
/// table (labelled predicted). They are never a search's objectives.
public enum EvaluationPredictors {
    public static let directory = "Predictors/evaluation"

    /// The `metric` predictor of each of `devices` in `directory` (the shipped folder when nil).
    public static func load(devices: [String], space: SpaceName, metric: DeviceMetric = .latency,
                            directory: String? = nil) throws -> [String: DeviceObjective] {
        let folder = try directory ?? ShippedData.path(Self.directory)
        var objectives: [String: DeviceObjective] = [:]
        for device in devices.sorted() {
            let path = (folder as NSString).appendingPathComponent(PredictorFile.shippedName(device: device, space: space, metric: metric))
            guard FileManager.default.fileExists(atPath: path) else {
                throw SearchError.badFile(reason: "no evaluation predictor \(path); regenerate it with scripts/train-default-predictors \(space)")
            }
            let file = try PredictorFile.load(path)
            try file.require(space: space, path: path)
            guard file.kind == .mlp, file.device == device, file.predictedMetric == metric else {
                throw SearchError.badFile(reason: "\(path) is not a \(metric) MLP of \(device); regenerate it with scripts/train-default-predictors \(space)")
            }
            objectives[device] = try DevicePredictor(file: file).objective(device: nil)
        }
        return objectives
    }
}
