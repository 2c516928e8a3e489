import Foundation

/// Settings of supernet training. The defaults are the small configuration for a 2-core CPU;
/// the paper's is C = 16, N = 5, batch 256, 100 epochs.
public struct SupernetConfiguration: Codable, Equatable, Sendable {
    public var channels = 8
    public var cellsPerStage = 1
    /// Images per sampled architecture in a step: each training device's architecture gets its
    /// own batch of weight images and of architecture images (the paper: 256, the same batch for all).
    public var batchSize = 16
    /// SGD as in MODNAS: learning rate 0.025 × training devices (the loss is their mean), momentum
    /// 0.9, weight decay 0.0027, gradient norm clipped at 5.
    public var learningRate: Float = 0.025
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0.0027
    public var gradientClip: Float = 5
    /// Random crop and flip (32×32 colour images only).
    public var augment = false
    /// Epochs of weight steps (on fair samples) before the hypernetwork trains, about 2/3 of the
    /// default epochs: otherwise the parameter-free operations win while the convolutions are
    /// untrained, and the hypernetwork never samples convolutions again.
    public var warmupEpochs = 5
    /// Each edge's 1×1 kernel is the centre taps of its 3×3 kernel (the original code's supernet;
    /// `--paper` sets it). nil, the default, is false: measured at seeds 0–2 it ranked no better
    /// and its fronts were worse (docs/supernet.md). Optional so that files written before it load.
    public var sharedKernels: Bool?
    public var seed: UInt64 = 0
    public init() {}
}

/// An accuracy objective that trains a weight-sharing supernet with the hypernetwork; hypernetwork
/// files record its settings and data.
public protocol SupernetTrainingObjective: AccuracyObjective {
    var supernetConfiguration: SupernetConfiguration { get }
    /// Images the supernet trained on (weight and architecture halves) and scored fronts on.
    var trainingImages: Int { get }
    var testImages: Int { get }
}
