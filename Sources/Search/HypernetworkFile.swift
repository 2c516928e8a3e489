import Autodiff
import DataFiles
import DeviceModel
import Foundation
import Predictors
import SearchSpaces

/// A finished search (`hypernetwork.json`, format `modnas.hypernetwork.v1`): everything needed to
/// produce fronts later for any device given by its features, without searching again.
public struct HypernetworkFile: Codable, Sendable {
    public static let formatVersion = "modnas.hypernetwork.v1"

    public var format: String
    /// The search space (`SpaceName`): the width of the output heads and the latency predictor's space.
    public var space: String
    /// The objectives, in the order of preference vectors: "test_error_percent", then the costs
    /// ("latency_ms", "energy_j", "params", "flops"; `ObjectiveList`).
    public var objectives: [String]
    /// surrogate, proxy, benchmark (OFA: the OFA accuracy predictor itself), supernet or supernet+proxy.
    public var accuracyMode: AccuracyMode
    public var referenceArchIndices: [Int]
    public var layers: [DenseLayer]
    /// Surrogate mode: estimates the accuracy of any architecture.
    public var surrogate: AccuracySurrogate?
    /// Supernet mode: what was trained, and the test error (%) estimated with the trained
    /// supernet for every architecture on the search's fronts, by arch string (other
    /// architectures get no estimate: the supernet is not stored).
    public var supernet: SupernetRecord?
    /// Latency of devices that have no predictor of their own.
    public var latencyPredictor: PredictorFile
    /// Energy of devices that have no predictor of their own (searches with an energy objective only).
    public var energyPredictor: PredictorFile?
    public var trainingDevices: [String]
    /// Which predictor gave each device's latency during the search.
    public var latencySources: [String: String]
    /// Which predictor gave each device's energy (searches with an energy objective only).
    public var energySources: [String: String]?
    public var configuration: SearchConfiguration
    public var log: [EpochLog]
    public var createdAt: Date

    public struct SupernetRecord: Codable, Sendable {
        public var settings: String
        public var configuration: SupernetConfiguration
        /// The data: `DatasetSource` text, training images used (weight + architecture halves), test images.
        public var dataset: String
        public var trainingImages: Int
        public var testImages: Int
        public var estimatedErrors: [String: Double]
    }

    /// `rows` are the search's fronts (their estimates are stored in supernet mode).
    public init<S>(search: MODNASSearch<S>, latencyPredictor: PredictorFile, energyPredictor: PredictorFile? = nil, log: [EpochLog], rows: [FrontRow]) {
        format = Self.formatVersion
        space = search.space.name.rawValue
        objectives = search.objectives.names
        accuracyMode = search.accuracy.mode
        referenceArchIndices = latencyPredictor.referenceArchIndices
        layers = search.hypernetwork.layers
        surrogate = search.surrogate
        if let s = search.accuracy as? any SupernetTrainingObjective {
            supernet = SupernetRecord(settings: s.settings, configuration: s.supernetConfiguration, dataset: search.configuration.dataset,
                                      trainingImages: s.trainingImages, testImages: s.testImages,
                                      estimatedErrors: Dictionary(
                rows.compactMap { row in row.estimatedLoss.map { (row.architecture, $0) } }, uniquingKeysWith: { a, _ in a }))
        }
        self.latencyPredictor = latencyPredictor
        self.energyPredictor = search.objectives.needsEnergy ? energyPredictor : nil
        trainingDevices = search.trainingDevices.map(\.name)
        latencySources = Dictionary(uniqueKeysWithValues: search.devices.map { ($0.name, $0.latencySource) })
        if search.objectives.needsEnergy {
            energySources = Dictionary(uniqueKeysWithValues: search.devices.compactMap { d in d.energySource.map { (d.name, $0) } })
        }
        configuration = search.configuration
        self.log = log
        createdAt = Date()
    }

    /// The search's space (checked when the file is read).
    public var spaceName: SpaceName { SpaceName(rawValue: space) ?? .nb201 }

    /// The objectives (checked when the file is read).
    public var objectiveList: ObjectiveList { (try? ObjectiveList(names: objectives)) ?? .errorAndLatency }

    /// The hypernetwork with its weights.
    public func hypernetwork() throws -> Hypernetwork {
        try Hypernetwork(objectives: objectives.count, deviceInputs: DeviceInput.width(references: referenceArchIndices.count),
                         outputs: spaceName.space.choiceCount, layers: layers)
    }

    /// A front generator for this search over `space` (the file's space).
    public func generator<S: SearchSpace>(space: S) throws -> FrontGenerator<S> {
        try spaceName.require(space.name.rawValue, in: "the search space asked for")
        let hypernetwork = try hypernetwork()
        let objectives = objectiveList
        if let surrogate { return FrontGenerator(space: space, hypernetwork: hypernetwork, objectives: objectives, surrogate: surrogate) }
        if accuracyMode == .benchmark, let model = try space.benchmarkLossModel() {   // `problem` checks the space has one
            return FrontGenerator(space: space, hypernetwork: hypernetwork, objectives: objectives) { archs in model.losses(archs.map(space.oneHotEncoding)) }
        }
        let known = supernet?.estimatedErrors ?? [:]
        return FrontGenerator(space: space, hypernetwork: hypernetwork, objectives: objectives) { archs in archs.map { known[space.string(of: $0)] } }
    }

    /// A device for fronts: latency (and energy, for an energy objective) from the stored meta
    /// predictors (zero-shot); a device without reference energies gets its fronts on the slice
    /// of zero energy preference, as in the search.
    public func device(_ features: DeviceFeatures) throws -> SearchDevice {
        guard features.referenceArchIndices == referenceArchIndices else {
            throw SearchError.badConfiguration("device features of '\(features.device)' use reference architectures \(features.referenceArchIndices), this hypernetwork \(referenceArchIndices)")
        }
        return try SearchDevice(features: features, predictor: DevicePredictor(file: latencyPredictor),
                                latencySource: "meta (zero-shot)", isTraining: trainingDevices.contains(features.device),
                                energyPredictor: features.energyValues == nil ? nil : energyPredictor.map { (DevicePredictor(file: $0), "energy meta (zero-shot)") })
    }

    public static func load(_ path: String) throws -> HypernetworkFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SearchError.badFile(reason: "cannot read hypernetwork \(path): \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Parses and checks the bytes of a hypernetwork file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> HypernetworkFile {
        let file: HypernetworkFile
        do { file = try VersionedJSON.decode(HypernetworkFile.self, from: data, format: formatVersion) } catch {
            switch error {
            case .noFormat:
                throw SearchError.badFile(reason: "\(path) is not a hypernetwork file (no \"format\"); use the hypernetwork.json a modnas search wrote")
            case .otherFormat(let found): throw SearchError.wrongFormat(path: path, found: found, expected: formatVersion)
            case .damaged(let problem): throw SearchError.badFile(reason: "\(path) is a damaged hypernetwork file (\(problem)); rerun modnas search")
            }
        }
        if let problem = file.problem { throw SearchError.badFile(reason: "\(path) is an inconsistent hypernetwork file (\(problem)); rerun modnas search") }
        return file
    }

    /// What makes the file unusable, checked before any weight is used; nil when it is sound.
    var problem: String? {
        guard let spaceName = SpaceName(rawValue: space) else {
            return "space '\(space)', this modnas searches \(SpaceName.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        guard latencyPredictor.space == space else { return "its latency predictor is of space '\(latencyPredictor.space)'" }
        do { _ = try ObjectiveList(names: objectives) } catch { return "\(error)" }
        guard latencyPredictor.kind == .meta, latencyPredictor.predictedMetric == .latency else { return "its latency predictor is not a latency meta predictor" }
        if let p = latencyPredictor.problem { return "latency predictor: \(p)" }
        if objectiveList.needsEnergy {
            guard let energyPredictor, energyPredictor.kind == .meta, energyPredictor.predictedMetric == .energy, energyPredictor.space == space else {
                return "an energy objective without an energy meta predictor of space \(space)"
            }
            if let p = energyPredictor.problem { return "energy predictor: \(p)" }
            guard energyPredictor.referenceArchIndices == referenceArchIndices else { return "the energy predictor's reference architectures differ" }
        }
        guard referenceArchIndices == latencyPredictor.referenceArchIndices else { return "reference architectures differ from its predictor's" }
        let ops = spaceName.space.choiceCount
        guard layers.count == 3, let hidden = layers.first?.outputs, (1...4096).contains(hidden) else { return "the hypernetwork needs 3 layers of at most 4096 units" }
        let widths = [(objectives.count + referenceArchIndices.count + 1, hidden), (hidden, hidden), (hidden, objectives.count * ops)]
        for (k, (layer, width)) in zip(layers, widths).enumerated() {
            if let p = layer.problem(inputs: width.0) ?? (layer.outputs == width.1 ? nil : "\(layer.outputs) outputs, need \(width.1)") {
                return "hypernetwork layer \(k + 1): \(p)"
            }
        }
        switch accuracyMode {
        case .surrogate, .proxy:
            guard let surrogate else { return "a \(accuracyMode)-mode search without its surrogate" }
            if let p = surrogate.problem { return "surrogate: \(p)" }
            guard surrogate.features.space == spaceName else { return "a surrogate of space \(surrogate.features.space)" }
        case .benchmark:
            do {
                guard try spaceName.space.benchmarkLossModel() != nil else { return "benchmark accuracy mode in space \(spaceName), which ships no differentiable benchmark model" }
            } catch { return "its space's benchmark model: \(error)" }
        case .supernet, .supernetProxy:
            guard spaceName == .nb201 else { return "a supernet outside the NB201 space" }
            guard let supernet else { return "a supernet-mode search without its supernet record" }
            guard supernet.estimatedErrors.allSatisfy({ spaceName.space.isArchitecture($0.key) && $0.value.isFinite && (0...100).contains($0.value) }) else {
                return "a supernet estimate that is not an architecture's error in 0…100 %"
            }
        }
        return nil
    }

    public func write(to path: String) throws { try VersionedJSON.write(self, to: path) }
}
