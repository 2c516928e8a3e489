import Autodiff
import Predictors

/// MODNAS's meta hypernetwork H(r, d) → α: architecture logits, one per choice of every decision
/// of the space (`outputs` = Σ choices: NB201 6 edges × 5 ops, OFA 160), from a preference vector
/// r over the objectives and a device's feature input d.
///
/// Unlike the original (which reads only r[0], quantised to 101 buckets), every component of r
/// acts continuously: an MLP on the concatenation [r, d] gives one logit head per objective, and
/// α = Σₘ rₘ·headₘ. The gate makes each objective's head learn from its own share of the loss,
/// so α cannot ignore r (a plain MLP on [r, d] learned one architecture for every r). The output
/// layer starts at zero, so α starts uniform.
public final class Hypernetwork: ParameterizedLayer {
    public let objectives: Int
    public let deviceInputs: Int
    /// Logits per head: the space's choice count.
    public let outputs: Int
    let first: Linear, second: Linear, output: Linear

    public init(objectives: Int, deviceInputs: Int, outputs: Int, hidden: Int = 64, seed: UInt64 = 0) {
        var rng = SeededGenerator(seed: seed)
        self.objectives = objectives
        self.deviceInputs = deviceInputs
        self.outputs = outputs
        first = Linear(inFeatures: objectives + deviceInputs, outFeatures: hidden, using: &rng)
        second = Linear(inFeatures: hidden, outFeatures: hidden, using: &rng)
        output = Linear(inFeatures: hidden, outFeatures: objectives * outputs, using: &rng)
        output.weight.value = Tensor(zeros: output.weight.shape)
        output.bias?.value = Tensor(zeros: output.bias!.shape)
    }

    /// A hypernetwork with stored weights (`layers` as returned by `layers`).
    public convenience init(objectives: Int, deviceInputs: Int, outputs: Int, layers: [DenseLayer]) throws {
        self.init(objectives: objectives, deviceInputs: deviceInputs, outputs: outputs, hidden: layers.first?.outputs ?? 1)
        let linears = [first, second, output]
        guard layers.count == 3, zip(layers, linears).allSatisfy({ $0.inputs == $1.weight.shape[1] && $0.outputs == $1.weight.shape[0]
            && $0.weight.count == $0.inputs * $0.outputs && $0.bias.count == $0.outputs }) else {
            throw SearchError.badFile(reason: "hypernetwork layers do not fit \(objectives) objectives, \(deviceInputs) device inputs and \(outputs) logits")
        }
        for (layer, linear) in zip(layers, linears) {
            linear.weight.value = Tensor(shape: linear.weight.shape, scalars: layer.weight)
            linear.bias?.value = Tensor(shape: [layer.outputs], scalars: layer.bias)
        }
    }

    public var parameters: [Variable] { first.parameters + second.parameters + output.parameters }

    /// The weights, layer by layer.
    public var layers: [DenseLayer] {
        [first, second, output].map {
            DenseLayer(inputs: $0.weight.shape[1], outputs: $0.weight.shape[0], weight: $0.weight.value.scalars, bias: $0.bias!.value.scalars)
        }
    }

    /// Logits α [outputs] for preference `preference` (M values) and device input `device`.
    public func callAsFunction(preference: Variable, device: Variable) -> Variable {
        precondition(preference.value.count == objectives && device.value.count == deviceInputs,
                     "Hypernetwork expects \(objectives) preferences and \(deviceInputs) device inputs")
        let x = concatChannels([reshape(preference, to: [1, objectives]), reshape(device, to: [1, deviceInputs])])
        let h = relu(second(relu(first(x))))
        let heads = reshape(output(h), to: [objectives, outputs])
        return reshape(matmul(reshape(preference, to: [1, objectives]), heads), to: [outputs])
    }
}
