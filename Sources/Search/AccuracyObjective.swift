import Autodiff
import Datasets
import Foundation
import Predictors
import Proxies
import SearchSpaces

/// Where the search's accuracy comes from (`--accuracy`; stored by these names in hypernetwork files).
public enum AccuracyMode: String, CaseIterable, Codable, Sendable {
    /// An accuracy surrogate fitted on K queries of the benchmark (NB201's table, OFA's accuracy predictor).
    case surrogate
    /// The benchmark's differentiable accuracy itself (OFA's accuracy predictor): the upper bound.
    case benchmark
    /// A weight-sharing supernet trained with the hypernetwork on a data set (NB201).
    case supernet
    /// The surrogate fitted on a zero-cost proxy vote of K sampled architectures on a data set:
    /// no accuracy query (a space with a trainable network builder).
    case proxy
    /// The supernet, its estimates of the K architectures rank-averaged with their proxy vote.
    case supernetProxy = "supernet+proxy"

    /// Whether a supernet trains with the hypernetwork.
    public var isSupernet: Bool { self == .supernet || self == .supernetProxy }
}

/// The accuracy side of a search: a differentiable, normalised error of a sampled architecture,
/// and error estimates (%) for the architectures of fronts.
public protocol AccuracyObjective<Architecture>: AnyObject {
    associatedtype Architecture: Hashable & Sendable
    /// "surrogate", "proxy", "benchmark", "supernet" or "supernet+proxy".
    var mode: AccuracyMode { get }
    /// What the estimates come from, in words (printed, stored, and compared on resume).
    var settings: String { get }
    /// The range of estimated errors the search normalises by, where one exists for the whole
    /// space (the surrogate's); nil when the error is normalised per epoch (the supernet's loss).
    var errorRange: ClosedRange<Double>? { get }
    /// Indices into `all` (the space's normalisation set) of the architectures the latency
    /// objectives are normalised over.
    func normalizationSet(_ all: [Architecture]) throws -> [Int]
    /// Epochs at the start in which only the objective trains (the hypernetwork waits).
    var warmupEpochs: Int { get }
    /// Called before each step (epochs count from 1).
    func prepareStep(epoch: Int, stepInEpoch: Int, of stepsPerEpoch: Int, epochs: Int)
    /// The normalised error of a sample's space encoding (`SearchSpace.relaxedEncoding`) for
    /// training device `device` (its position among the training devices), taped so the
    /// gradient reaches the sample.
    func normalizedError(_ encoding: Variable, device: Int) -> Variable
    /// Estimated test error (%) of each architecture.
    func errors(_ architectures: [Architecture]) -> [Double]
    /// The error (%) the hypernetwork is trained against, on the scale of `errorRange`: the
    /// estimates themselves, except in supernet mode (the surrogate fitted on them).
    func objectiveErrors(_ architectures: [Architecture]) -> [Double]
    /// Mean training loss of the epoch so far, where the objective trains (nil otherwise).
    var epochTrainingLoss: Double? { get }
    /// Training state for checkpoints (nil: the objective does not change during a search).
    func checkpointState() throws -> Data?
    func restore(_ state: Data) throws
}

extension AccuracyObjective {
    public var warmupEpochs: Int { 0 }
    public func objectiveErrors(_ architectures: [Architecture]) -> [Double] { errors(architectures) }
    public var epochTrainingLoss: Double? { nil }
    public func prepareStep(epoch: Int, stepInEpoch: Int, of stepsPerEpoch: Int, epochs: Int) {}
    public func checkpointState() throws -> Data? { nil }
    public func restore(_ state: Data) throws {}
}

/// The architectures a search normalises its objectives over: all of a space that can be
/// listed (NB201), else a fixed seeded sample of `sampleSize` (OFA).
public enum NormalizationSet {
    public static let sampleSize = 10_000
    public static let seed: UInt64 = 20_250_124

    public static func architectures<S: SearchSpace>(of space: S) -> [S.Architecture] {
        space.enumeration() ?? space.sample(count: sampleSize, seed: seed)
    }

    /// How the set was chosen, for settings and reports.
    public static func description<S: SearchSpace>(of space: S) -> String {
        space.enumeration() != nil ? "all architectures" : "a fixed sample of \(sampleSize) architectures (seed \(seed))"
    }
}

/// Surrogate mode: the fitted accuracy surrogate, min-max normalised over the architectures of
/// the normalisation set it puts below the benchmark's chance gate (NB201's extremes sit on
/// degenerate cells).
public final class SurrogateAccuracy<Space: SearchSpace>: AccuracyObjective {
    public let surrogate: AccuracySurrogate
    public let space: Space
    public let errorRange: ClosedRange<Double>?
    /// "surrogate" (fitted on benchmark queries) or "proxy" (fitted on a proxy vote).
    public let mode: AccuracyMode
    /// The benchmark's chance gate (`SearchBenchmark.chanceGate`).
    public let chanceGate: Double?
    private let range: ClosedRange<Double>

    public init(_ surrogate: AccuracySurrogate, space: Space, mode: AccuracyMode = .surrogate, chanceGate: Double?) throws {
        guard surrogate.features.space == space.name else {
            throw SearchError.badConfiguration("the accuracy surrogate is of space \(surrogate.features.space), the search of \(space.name)")
        }
        self.surrogate = surrogate
        self.space = space
        self.mode = mode
        self.chanceGate = chanceGate
        let errors = surrogate.errors(NormalizationSet.architectures(of: space), in: space).filter { ObjectiveBounds.isBelow($0, gate: chanceGate) }
        guard let low = errors.min(), let high = errors.max() else {
            throw SearchError.badConfiguration("the accuracy surrogate puts every architecture at or above the chance gate, \(chanceGate.map { "\($0)" } ?? "none")")
        }
        range = low...high
        errorRange = range
    }

    public var settings: String {
        surrogate.queried.isEmpty ? "surrogate fitted on a \(surrogate.source), ensemble of \(surrogate.ensemble.count)"
            : "surrogate on K = \(surrogate.queried.count) queried architectures (\(surrogate.source)), ensemble of \(surrogate.ensemble.count)"
    }

    public func normalizationSet(_ all: [Space.Architecture]) throws -> [Int] {
        let errors = surrogate.errors(all, in: space)
        return errors.indices.filter { ObjectiveBounds.isBelow(errors[$0], gate: chanceGate) }
    }

    public func normalizedError(_ encoding: Variable, device: Int) -> Variable {
        let (error, gradient) = surrogate.evaluate(encoding.value.scalars)
        let span = Float(max(range.upperBound - range.lowerBound, 1e-9))
        return Variable.result(Tensor(scalar: Float(error - range.lowerBound) / span), parents: [encoding]) { g in
            [Tensor(shape: encoding.shape, scalars: gradient.map { g.scalars[0] * $0 / span })]
        }
    }

    public func errors(_ architectures: [Space.Architecture]) -> [Double] { surrogate.errors(architectures, in: space) }
}

/// Benchmark mode: the loss is the benchmark's own differentiable model (OFA's accuracy
/// predictor, HW-GPT-Bench's perplexity predictor; estimates, labelled with the model's label) of
/// the relaxed encoding, min-max normalised over the normalisation set. The upper bound of what
/// a surrogate fitted on its queries can reach.
public final class BenchmarkModelAccuracy<Space: SearchSpace>: AccuracyObjective {
    public let model: any BenchmarkLossModel
    public let space: Space
    public let errorRange: ClosedRange<Double>?
    private let range: ClosedRange<Double>

    public init(_ model: any BenchmarkLossModel, space: Space) {
        (self.model, self.space) = (model, space)
        let losses = model.losses(NormalizationSet.architectures(of: space).map(space.oneHotEncoding))
        range = losses.min()!...losses.max()!
        errorRange = range
    }

    public var mode: AccuracyMode { .benchmark }
    public var settings: String { "\(model.label) (every estimate from the predictor itself; no query budget)" }

    public func normalizationSet(_ all: [Space.Architecture]) throws -> [Int] { Array(all.indices) }

    public func normalizedError(_ encoding: Variable, device: Int) -> Variable {
        let span = Float(max(range.upperBound - range.lowerBound, 1e-9))
        let loss = model.loss(reshape(encoding, to: [1, encoding.value.count]))
        let offset = Variable(Tensor(shape: loss.shape, scalars: [-Float(range.lowerBound) / span]))
        return reshape(scale(loss, by: 1 / span) + offset, to: [])
    }

    public func errors(_ architectures: [Space.Architecture]) -> [Double] { model.losses(architectures.map(space.oneHotEncoding)) }
}

/// Floats as their exact little-endian bytes (checkpoints must restore bit for bit).
public enum FloatData {
    public static func encode(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    public static func decode(_ data: Data) throws -> [Float] {
        guard data.count % 4 == 0 else { throw SearchError.badFile(reason: "a checkpoint array has \(data.count) bytes, not a multiple of 4; the checkpoint is damaged") }
        let bytes = [UInt8](data)
        let values = stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
        guard values.allSatisfy(\.isFinite) else { throw SearchError.badFile(reason: "a checkpoint array holds a non-finite number; the checkpoint is damaged") }
        return values
    }
}
