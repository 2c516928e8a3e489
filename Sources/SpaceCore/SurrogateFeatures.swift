import Autodiff

/// The input features of a space's accuracy surrogate: a map of its (relaxed) encoding with the
/// Jacobian, and where the space has one, a gate for architectures whose loss is chance without
/// any query (an NB201 cell with no live path from input to output computes a constant).
public struct SurrogateFeatures: Sendable {
    /// Name stored in surrogate files.
    public let name: String
    public let space: SpaceName
    /// Width of the encoding the features are of (`SearchSpace.encodingWidth`).
    public let inputCount: Int
    public let featureCount: Int
    private let map: @Sendable ([Float]) -> (features: [Float], jacobian: [Float])
    private let gate: (@Sendable ([Float]) -> (value: Float, gradient: [Float]))?

    /// Features `featuresAndJacobian` makes of an encoding; `connectivity` gates them (nil: never gated).
    public init(name: String, space: SpaceName, inputCount: Int, featureCount: Int,
                featuresAndJacobian: @escaping @Sendable ([Float]) -> (features: [Float], jacobian: [Float]),
                connectivity: (@Sendable ([Float]) -> (value: Float, gradient: [Float]))?) {
        (self.name, self.space, self.inputCount, self.featureCount) = (name, space, inputCount, featureCount)
        (map, gate) = (featuresAndJacobian, connectivity)
    }

    /// A linear encoding's features (the latency predictors' own), never gated.
    public init(linear encoding: ArchitectureEncoding) {
        self.init(name: encoding.name, space: encoding.space, inputCount: encoding.inputCount, featureCount: encoding.featureCount,
                  featuresAndJacobian: { (encoding.features($0), encoding.matrix) }, connectivity: nil)
    }

    /// The features of encoding `x` and their Jacobian [featureCount × inputCount], row-major.
    public func featuresAndJacobian(_ x: [Float]) -> (features: [Float], jacobian: [Float]) { map(x) }

    public func features(_ x: [Float]) -> [Float] { map(x).features }

    /// Whether the network computes something other than a constant (0…1 in a relaxed encoding),
    /// with its gradient.
    public func connectivity(_ x: [Float]) -> (value: Float, gradient: [Float]) {
        gate?(x) ?? (1, [Float](repeating: 0, count: x.count))
    }

    /// Whether some encodings are disconnected networks, at chance without a query.
    public var isGated: Bool { gate != nil }
}

/// A benchmark's own differentiable model of the accuracy objective's loss (OFA's accuracy
/// predictor, HW-GPT-Bench's perplexity predictor): its values are estimates, never measurements.
public protocol BenchmarkLossModel: Sendable {
    /// What the estimates are, for labels.
    var label: String { get }
    /// The loss (in the unit of the space's `AccuracyLoss`) of encodings [n, encodingWidth], taped, as [n, 1].
    func loss(_ encodings: Variable) -> Variable
    /// The loss of each one-hot encoding, untaped (default: `loss` of their rows).
    func losses(_ encodings: [[Float]]) -> [Double]
}

extension BenchmarkLossModel {
    public func losses(_ encodings: [[Float]]) -> [Double] {
        guard let width = encodings.first?.count else { return [] }
        let rows = Tensor(shape: [encodings.count, width], scalars: encodings.flatMap { $0 })
        return withoutTape { loss(Variable(rows)) }.value.scalars.map(Double.init)
    }
}
