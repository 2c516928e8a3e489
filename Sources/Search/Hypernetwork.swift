import Autodiff
import SearchSpaces

/// MODNAS's meta hypernetwork H(r, d) → α: architecture logits [6 edges, 5 ops] from a
/// preference vector r over the objectives and a device's feature input d.
///
/// Unlike the original (which reads only r[0], quantised to 101 buckets), it is an MLP on the
/// concatenation [r, d], so every component of r acts continuously. The output layer starts at
/// zero, so α starts uniform.
public final class Hypernetwork: ParameterizedLayer {
    public let objectives: Int
    public let deviceInputs: Int
    let first: Linear, second: Linear, output: Linear

    public init(objectives: Int, deviceInputs: Int, hidden: Int = 64, seed: UInt64 = 0) {
        var rng = SeededGenerator(seed: seed)
        self.objectives = objectives
        self.deviceInputs = deviceInputs
        first = Linear(inFeatures: objectives + deviceInputs, outFeatures: hidden, using: &rng)
        second = Linear(inFeatures: hidden, outFeatures: hidden, using: &rng)
        output = Linear(inFeatures: hidden, outFeatures: NB201Architecture.edgeCount * NB201Architecture.operationCount, using: &rng)
        output.weight.value = Tensor(zeros: output.weight.shape)
        output.bias?.value = Tensor(zeros: output.bias!.shape)
    }

    public var parameters: [Variable] { first.parameters + second.parameters + output.parameters }

    /// Logits α [6, 5] for preference `preference` (M values) and device input `device`.
    public func callAsFunction(preference: Variable, device: Variable) -> Variable {
        precondition(preference.value.count == objectives && device.value.count == deviceInputs,
                     "Hypernetwork expects \(objectives) preferences and \(deviceInputs) device inputs")
        let x = concatChannels([reshape(preference, to: [1, objectives]), reshape(device, to: [1, deviceInputs])])
        let h = relu(second(relu(first(x))))
        return reshape(output(h), to: [NB201Architecture.edgeCount, NB201Architecture.operationCount])
    }
}
