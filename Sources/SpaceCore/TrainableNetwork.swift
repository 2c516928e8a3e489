import Autodiff

/// How a forward pass normalises.
public enum NormalizationMode: Sendable {
    /// Batch statistics, updating the running averages: training.
    case batch
    /// Running statistics: evaluation.
    case running
    /// No batch norm at all: SynFlow's linearised network, which its authors build with bn=False.
    case none
}

extension BatchNorm2D {
    /// The layer in `mode` (identity for `.none`).
    public func callAsFunction(_ x: Variable, _ mode: NormalizationMode) -> Variable {
        switch mode {
        case .batch: return self(x, training: true)
        case .running: return self(x, training: false)
        case .none: return x
        }
    }
}

/// A network with taped forward passes: what stand-alone training and zero-cost proxies need.
public protocol TrainableNetwork: AnyObject {
    /// Every trainable parameter.
    var parameters: [Variable] { get }
    /// The convolution and linear weights, the tensors zero-cost proxies score.
    var weights: [Variable] { get }
    /// The input shape [batch, channels, height, width].
    func inputShape(batch: Int) -> [Int]
    /// Logits [batch, classes]; `afterBlock` is applied to the output of the stem and of every
    /// block (a hook that may rescale activations).
    func forward(_ images: Variable, normalization: NormalizationMode, afterBlock: (Variable) -> Variable) -> Variable
}
