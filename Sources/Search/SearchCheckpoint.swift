import Autodiff
import DataFiles
import Foundation

/// A search's state after an epoch (`checkpoint.json`, format `modnas.checkpoint.v1`): the
/// hypernetwork, Adam's moments, the sampling generator, the accuracy objective's training state
/// (supernet weights, momentum, generator) and the log. Restoring it continues the search bit
/// for bit, so an interrupted search ends with the fronts of an uninterrupted one.
public struct SearchCheckpoint: Codable {
    public static let formatVersion = "modnas.checkpoint.v1"

    public var format: String
    /// What must match for a resume: the settings, the devices and the accuracy objective.
    public var configuration: SearchConfiguration
    public var devices: [String]
    public var trainingDevices: [String]
    /// The objectives' names (`ObjectiveList.names`); absent in checkpoints written before the
    /// list, whose searches all had test error and latency.
    public var objectives: [String]?
    public var accuracySettings: String
    var hypernetwork: [Data]
    var adamFirstMoment: [Data], adamSecondMoment: [Data]
    var adamSteps: Int
    var rng: [UInt64]
    var step: Int
    var elapsed: Double
    public var log: [EpochLog]
    public var accuracyState: Data?

    /// The epochs done.
    public var epochs: Int { log.count }

    public static func load(_ path: String) throws -> SearchCheckpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SearchError.badFile(reason: "no checkpoint at \(path); start the search without --resume")
        }
        return try decode(data, path: path)
    }

    /// Parses and checks the bytes of a checkpoint; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> SearchCheckpoint {
        let checkpoint: SearchCheckpoint
        do { checkpoint = try VersionedJSON.decode(SearchCheckpoint.self, from: data, format: formatVersion) } catch {
            switch error {
            case .noFormat: throw SearchError.badFile(reason: "\(path) is not a modnas checkpoint; start the search without --resume")
            case .otherFormat(let found): throw SearchError.wrongFormat(path: path, found: found, expected: formatVersion)
            case .damaged(let problem):
                throw SearchError.badFile(reason: "\(path) is a damaged checkpoint (\(problem)); start the search without --resume")
            }
        }
        if let problem = checkpoint.problem {
            throw SearchError.badFile(reason: "\(path) holds an impossible search state (\(problem)); start the search without --resume")
        }
        return checkpoint
    }

    /// What no search could have written: a log that is not epochs 1, 2, … with finite figures,
    /// more epochs than configured, negative counters, or a generator state of all zeros (the
    /// one state xoshiro never leaves).
    var problem: String? {
        guard rng.count == 4, rng.contains(where: { $0 != 0 }) else { return "generator state \(rng)" }
        guard adamSteps >= 0, step >= 0, elapsed.isFinite, elapsed >= 0 else { return "negative or non-finite step counts or time" }
        guard log.count <= configuration.epochs, log.map(\.epoch) == Array(0..<log.count).map({ $0 + 1 }) else {
            return "a log of epochs \(log.map(\.epoch)) for \(configuration.epochs) configured"
        }
        let figures = log.flatMap { [$0.meanLoss, $0.predictedHypervolume, $0.supernetLoss, $0.benchmarkHypervolume, $0.seconds] }
        guard figures.allSatisfy({ $0?.isFinite ?? true }) else { return "a non-finite figure in the log" }
        return nil
    }

    /// Writes atomically: a kill during the write leaves the previous checkpoint.
    public func write(to path: String) throws {
        try VersionedJSON.write(self, to: path)
    }
}

extension MODNASSearch {
    /// The state after the last finished epoch.
    public func checkpoint() throws -> SearchCheckpoint {
        let adamState = adam.state
        return SearchCheckpoint(
            format: SearchCheckpoint.formatVersion, configuration: configuration, devices: devices.map(\.name),
            trainingDevices: trainingDevices.map(\.name), objectives: objectives.names, accuracySettings: accuracy.settings,
            hypernetwork: hypernetwork.parameters.map { FloatData.encode($0.value.scalars) },
            adamFirstMoment: adamState.firstMoment.map(FloatData.encode), adamSecondMoment: adamState.secondMoment.map(FloatData.encode),
            adamSteps: adamState.steps, rng: rng.stateWords, step: step, elapsed: elapsed, log: log,
            accuracyState: try accuracy.checkpointState())
    }

    /// Continues from `checkpoint`, which must come from a search with the same settings and devices.
    public func restore(_ checkpoint: SearchCheckpoint) throws {
        func differs(_ what: String) -> SearchError {
            .badConfiguration("the checkpoint comes from a search with other \(what); resume with the interrupted search's flags, or start again without --resume")
        }
        guard checkpoint.configuration == configuration else { throw differs("settings") }
        guard checkpoint.devices == devices.map(\.name), checkpoint.trainingDevices == trainingDevices.map(\.name) else { throw differs("devices") }
        guard (checkpoint.objectives ?? ObjectiveList.errorAndLatency.names) == objectives.names else {
            throw differs("objectives (\((checkpoint.objectives ?? ObjectiveList.errorAndLatency.names).joined(separator: ", ")))")
        }
        guard checkpoint.accuracySettings == accuracy.settings else { throw differs("accuracy settings (\(checkpoint.accuracySettings))") }
        let parameters = hypernetwork.parameters
        let weights = try checkpoint.hypernetwork.map(FloatData.decode)
        let first = try checkpoint.adamFirstMoment.map(FloatData.decode), second = try checkpoint.adamSecondMoment.map(FloatData.decode)
        let sizes = parameters.map(\.value.count)
        guard weights.map(\.count) == sizes, first.map(\.count) == sizes, second.map(\.count) == sizes, checkpoint.rng.count == 4 else {
            throw SearchError.badFile(reason: "the checkpoint's hypernetwork has another shape; start the search without --resume")
        }
        if let state = checkpoint.accuracyState { try accuracy.restore(state) }
        for (p, w) in zip(parameters, weights) { p.value = Tensor(shape: p.value.shape, scalars: w) }
        adam.state = Adam.State(firstMoment: first, secondMoment: second, steps: checkpoint.adamSteps)
        rng.stateWords = checkpoint.rng
        (step, elapsed, log) = (checkpoint.step, checkpoint.elapsed, checkpoint.log)
    }
}
