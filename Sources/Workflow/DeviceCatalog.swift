import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Benchmarks
import Evaluation
import Search
import SearchSpaces

/// Decides which devices a search trains on and gives each its latency objective (and energy
/// objective, for searches with an energy objective).
public struct DeviceCatalog {
    public var devices: [SearchDevice]
    /// The device-conditioned predictor: latency for devices without their own predictor.
    public var meta: PredictorFile
    /// The device-conditioned energy predictor, when energy is asked for.
    public var energyMeta: PredictorFile?
    /// Predictors fine-tuned from `meta` on a device's measurements, by device.
    public var adapted: [String: PredictorFile]

    /// The fewest measured architectures for a device without a predictor of its own to train.
    public static let minimumMeasurements = 20

    /// A device is a training device when a predictor file in `predictorDirectory` names it, or
    /// when `database` holds at least `minimumMeasurements` architectures for it (then the meta
    /// predictor is fine-tuned on them). Every other device, and every device in `heldOut`, gets
    /// fronts zero-shot, with latency from the meta predictor. With `energy`, each device gets
    /// its energy the same way (`energy-mlp-<device>`, adaptation, `energy-meta`); a device
    /// without energy (a host without RAPL) joins on its other objectives, named in `progress`
    /// with the reason (the search refuses when no training device has energy).
    public init(features: [DeviceFeatures], predictorDirectory: String, metaPredictor: String? = nil, space: SpaceName = .nb201,
                database: ProfileDatabase? = nil, heldOut: Set<String> = [], adaptEpochs: Int = 60, energy: Bool = false,
                progress: (String) -> Void = { _ in }) throws {
        for name in heldOut where !features.contains(where: { $0.device == name }) {
            throw SearchError.badConfiguration("cannot hold out '\(name)': no device features for it")
        }
        func loadMeta(_ path: String, metric: DeviceMetric) throws -> PredictorFile {
            guard FileManager.default.fileExists(atPath: path) || metric == .latency else {
                throw SearchError.badConfiguration("no energy meta predictor at \(path); train one with modnas-predict train --metric energy --kind meta")
            }
            let file = try PredictorFile.load(path)
            guard file.kind == .meta, file.predictedMetric == metric else {
                throw SearchError.badConfiguration("\(path) is a \(file.predictedMetric) '\(file.kind)' predictor; the search needs a \(metric) meta predictor there")
            }
            try file.require(space: space, path: path)
            return file
        }
        func inDirectory(_ name: String) -> String { (predictorDirectory as NSString).appendingPathComponent(name) }
        meta = try loadMeta(metaPredictor ?? inDirectory(PredictorFile.shippedName(device: nil, space: space)), metric: .latency)
        energyMeta = energy ? try loadMeta(inDirectory(PredictorFile.shippedName(device: nil, space: space, metric: .energy)), metric: .energy) : nil
        // Each device's own predictor file of each metric, by device.
        var own: [DeviceMetric: [String: (file: PredictorFile, name: String)]] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: predictorDirectory)) ?? [])
            .filter { PredictorFile.isNamed($0, for: space) }.sorted()
        for name in names {
            let file = try PredictorFile.load(inDirectory(name))
            if let device = file.device, file.space == meta.space { own[file.predictedMetric, default: [:]][device] = (file, name) }
        }
        adapted = [:]
        devices = []
        let stored = Set(try database?.deviceNames() ?? [])
        for f in features {
            guard f.referenceArchIndices == meta.referenceArchIndices else {
                throw SearchError.badConfiguration("device features of '\(f.device)' use reference architectures \(f.referenceArchIndices), the predictors \(meta.referenceArchIndices)")
            }
            /// The device's predictor of `metric` from `base` and how it was chosen; nil: zero-shot.
            func trained(_ metric: DeviceMetric, base: PredictorFile) throws -> (file: PredictorFile, source: String)? {
                if heldOut.contains(f.device) { return nil }
                if let (file, name) = own[metric]?[f.device] { return (file, name) }
                guard let database, stored.contains(f.device) else { return nil }
                let samples: DeviceSamples
                do { samples = try DatabaseSamples.device(f.device, database: database, space: space.space, metric: metric) } catch DeviceModelError.noEnergy {
                    return nil   // no energy measured: the features decide below
                }
                guard metric == .energy || samples.latencyClock == f.clock else {
                    throw SearchError.badConfiguration("the feature file of '\(f.device)' holds \(f.latencyLabel), its measurements in the database \(samples.valueLabel); write the features again with modnas-profile features --device \(f.device)")
                }
                guard samples.architectures.count >= Self.minimumMeasurements else { return nil }
                progress("adapting the \(metric == .energy ? "energy " : "")meta predictor to \(f.device) on \(samples.architectures.count) measured architectures")
                var withFeatures = samples
                withFeatures.features = f
                let file = try PredictorTraining.adapt(base, to: withFeatures, epochs: adaptEpochs)
                if metric == .latency { adapted[f.device] = file }
                return (file, "meta adapted to \(samples.architectures.count) measured architectures (\(samples.valueLabel))")
            }
            let zeroShot = heldOut.contains(f.device) ? "meta (zero-shot, held out)" : "meta (zero-shot)"
            let latency = try trained(.latency, base: meta)
            let energyPredictor = try energyMeta.flatMap { base -> (predictor: DevicePredictor, source: String)? in
                if let own = try trained(.energy, base: base) { return (DevicePredictor(file: own.file), own.source) }
                guard f.energyValues != nil else {
                    progress("'\(f.device)' has no energy (\(f.energyAbsentReason ?? "its feature file holds latencies only")): it joins the search on its other objectives, "
                             + "and its fronts are the slice with zero energy preference")
                    return nil
                }
                return (DevicePredictor(file: base), "energy " + zeroShot)
            }
            devices.append(try SearchDevice(features: f, predictor: DevicePredictor(file: latency?.file ?? meta),
                                            latencySource: latency?.source ?? zeroShot, isTraining: latency != nil,
                                            energyPredictor: energyPredictor))
        }
        devices.sort { $0.name < $1.name }
    }
}
