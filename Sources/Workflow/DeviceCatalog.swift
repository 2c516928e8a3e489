import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Search
import SearchSpaces

/// Decides which devices a search trains on and gives each its latency objective.
public struct DeviceCatalog {
    public var devices: [SearchDevice]
    /// The device-conditioned predictor: latency for devices without their own predictor.
    public var meta: PredictorFile
    /// Predictors fine-tuned from `meta` on a device's measurements, by device.
    public var adapted: [String: PredictorFile]

    /// The fewest measured architectures for a device without a predictor of its own to train.
    public static let minimumMeasurements = 20

    /// A device is a training device when a predictor file in `predictorDirectory` names it, or
    /// when `database` holds at least `minimumMeasurements` architectures for it (then the meta
    /// predictor is fine-tuned on them). Every other device, and every device in `heldOut`, gets
    /// fronts zero-shot, with latency from the meta predictor.
    public init(features: [DeviceFeatures], predictorDirectory: String, metaPredictor: String? = nil, space: SpaceName = .nb201,
                database: ProfileDatabase? = nil, heldOut: Set<String> = [], adaptEpochs: Int = 60,
                progress: (String) -> Void = { _ in }) throws {
        for name in heldOut where !features.contains(where: { $0.device == name }) {
            throw SearchError.badConfiguration("cannot hold out '\(name)': no device features for it")
        }
        let metaPath = metaPredictor ?? (predictorDirectory as NSString).appendingPathComponent(PredictorFile.shippedName(device: nil, space: space))
        meta = try PredictorFile.load(metaPath)
        guard meta.kind == .meta else { throw SearchError.badConfiguration("\(metaPath) is a '\(meta.kind)' predictor; the search needs a meta predictor there") }
        try meta.require(space: space, path: metaPath)
        var own: [String: (file: PredictorFile, name: String)] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: predictorDirectory)) ?? [])
            .filter { PredictorFile.isNamed($0, for: space) }.sorted()
        for name in names where (predictorDirectory as NSString).appendingPathComponent(name) != metaPath {
            let file = try PredictorFile.load((predictorDirectory as NSString).appendingPathComponent(name))
            if let device = file.device, file.space == meta.space { own[device] = (file, name) }
        }
        adapted = [:]
        devices = []
        let stored = Set(try database?.deviceNames() ?? [])
        for f in features {
            guard f.referenceArchIndices == meta.referenceArchIndices else {
                throw SearchError.badConfiguration("device features of '\(f.device)' use reference architectures \(f.referenceArchIndices), the predictors \(meta.referenceArchIndices)")
            }
            if heldOut.contains(f.device) {
                devices.append(try SearchDevice(features: f, predictor: DevicePredictor(file: meta),
                                                latencySource: "meta (zero-shot, held out)", isTraining: false))
                continue
            }
            if let (file, name) = own[f.device] {
                devices.append(try SearchDevice(features: f, predictor: DevicePredictor(file: file),
                                                latencySource: name, isTraining: true))
                continue
            }
            if let database, stored.contains(f.device) {
                let samples = try DatabaseSamples.device(f.device, database: database, space: space.space)
                guard samples.latencyClock == f.clock else {
                    throw SearchError.badConfiguration("the feature file of '\(f.device)' holds \(f.latencyLabel), its measurements in the database \(samples.valueLabel); write the features again with modnas-profile features --device \(f.device)")
                }
                if samples.architectures.count >= Self.minimumMeasurements {
                    progress("adapting the meta predictor to \(f.device) on \(samples.architectures.count) measured architectures")
                    var withFeatures = samples
                    withFeatures.features = f
                    let file = try PredictorTraining.adapt(meta, to: withFeatures, epochs: adaptEpochs)
                    adapted[f.device] = file
                    devices.append(try SearchDevice(features: f, predictor: DevicePredictor(file: file),
                                                    latencySource: "meta adapted to \(samples.architectures.count) measured architectures (\(samples.valueLabel))",
                                                    isTraining: true))
                    continue
                }
            }
            devices.append(try SearchDevice(features: f, predictor: DevicePredictor(file: meta),
                                            latencySource: "meta (zero-shot)", isTraining: false))
        }
        devices.sort { $0.name < $1.name }
    }
}
