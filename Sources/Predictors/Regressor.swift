import Autodiff
import Foundation

/// A fully connected layer's weights: weight [outputs, inputs] row-major, bias [outputs].
public struct DenseLayer: Codable, Equatable, Sendable {
    public var inputs: Int
    public var outputs: Int
    public var weight: [Float]
    public var bias: [Float]

    public init(inputs: Int, outputs: Int, weight: [Float], bias: [Float]) {
        (self.inputs, self.outputs, self.weight, self.bias) = (inputs, outputs, weight, bias)
    }

    /// What is wrong with the stored weights (sizes, non-finite values); nil when they are sound.
    public func problem(inputs expected: Int) -> String? {
        guard inputs == expected else { return "a layer takes \(inputs) inputs where \(expected) arrive" }
        guard inputs >= 1, outputs >= 1, inputs <= 1 << 16, outputs <= 1 << 16 else { return "a layer of \(inputs) × \(outputs)" }
        guard weight.count == inputs * outputs, bias.count == outputs else {
            return "a \(outputs) × \(inputs) layer stores \(weight.count) weights and \(bias.count) biases"
        }
        guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else { return "a layer holds a non-finite weight" }
        return nil
    }
}

/// A regressor on normalised inputs and a normalised target: a linear term plus an MLP (ReLU
/// between layers, one linear output). Latency is nearly additive in the operations, so the
/// linear term carries most of it and the MLP the interactions.
public struct Regressor: Codable, Equatable, Sendable {
    /// The linear term (inputs → 1).
    public var linearTerm: DenseLayer
    public var layers: [DenseLayer]
    public var inputMean: [Float]
    public var inputStd: [Float]
    public var targetMean: Float
    public var targetStd: Float

    /// What is wrong with the regressor for `inputs` raw inputs; nil when every size matches and
    /// every constant is finite (and each scale positive).
    public func problem(inputs: Int) -> String? {
        guard inputMean.count == inputs, inputStd.count == inputs else {
            return "normalisation for \(inputMean.count) and \(inputStd.count) inputs, the model takes \(inputs)"
        }
        guard inputMean.allSatisfy(\.isFinite), inputStd.allSatisfy({ $0.isFinite && $0 > 0 }),
              targetMean.isFinite, targetStd.isFinite, targetStd > 0 else {
            return "a normalisation constant is not finite or a scale is not positive"
        }
        if let p = linearTerm.problem(inputs: inputs) ?? (linearTerm.outputs == 1 ? nil : "the linear term has \(linearTerm.outputs) outputs") {
            return "linear term: \(p)"
        }
        guard let last = layers.last, last.outputs == 1 else { return "the MLP must end in one output" }
        var width = inputs
        for (k, layer) in layers.enumerated() {
            if let p = layer.problem(inputs: width) { return "layer \(k + 1): \(p)" }
            width = layer.outputs
        }
        return nil
    }

    /// Predictions (de-normalised target) for raw input rows [n, inputs].
    public func predict(_ rows: Tensor) -> [Float] {
        withoutTape { forward(Variable(normalize(rows))).value.scalars.map { $0 * targetStd + targetMean } }
    }

    /// The prediction for one raw input and its gradient with respect to that input.
    public func valueAndGradient(_ input: [Float]) -> (value: Float, gradient: [Float]) {
        let x = Variable(normalize(Tensor(shape: [1, input.count], scalars: input)), requiresGrad: true)
        let y = forward(x)
        y.backward()
        let g = x.grad!.scalars.enumerated().map { $1 / inputStd[$0] * targetStd }
        return (y.value.scalars[0] * targetStd + targetMean, g)
    }

    func normalize(_ rows: Tensor) -> Tensor {
        let d = inputMean.count
        precondition(rows.shape.last == d, "regressor expects \(d) inputs per row, got \(rows.shape)")
        var t = rows
        for i in 0..<t.count { t.scalars[i] = (t.scalars[i] - inputMean[i % d]) / inputStd[i % d] }
        return t
    }

    /// The network on normalised inputs, taped when `x` or the parameters carry gradients.
    func forward(_ x: Variable, parameters: [Variable]? = nil) -> Variable {
        let p = parameters ?? ([linearTerm] + layers).flatMap {
            [Variable(Tensor(shape: [$0.outputs, $0.inputs], scalars: $0.weight)), Variable(Tensor(shape: [$0.outputs], scalars: $0.bias))]
        }
        var h = x
        for k in 0..<layers.count {
            h = linear(h, weight: p[2 * k + 2], bias: p[2 * k + 3])
            if k < layers.count - 1 { h = relu(h) }
        }
        return h + linear(x, weight: p[0], bias: p[1])
    }
}

extension Array where Element == Regressor {
    /// The ensemble's mean prediction for each row of `rows` [n, inputs].
    public func meanPrediction(_ rows: Tensor) -> [Double] {
        var mean = [Double](repeating: 0, count: rows.shape[0])
        for r in self { for (i, v) in r.predict(rows).enumerated() { mean[i] += Double(v) / Double(count) } }
        return mean
    }

    /// The ensemble's mean prediction for one input and its gradient with respect to that input.
    public func meanValueAndGradient(_ input: [Float]) -> (value: Float, gradient: [Float]) {
        var value: Float = 0
        var gradient = [Float](repeating: 0, count: input.count)
        for r in self {
            let (v, g) = r.valueAndGradient(input)
            value += v / Float(count)
            for k in gradient.indices { gradient[k] += g[k] / Float(count) }
        }
        return (value, gradient)
    }
}

/// How a regressor is trained.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var hidden: [Int] = [256, 256]
    public var maxEpochs = 800
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    /// Strong L2 decay keeps the MLP close to the additive latency model the data mostly follow.
    public var weightDecay: Float = 1e-2
    public var validationFraction = 0.1
    /// Epochs without a better validation loss before stopping.
    public var patience = 40
    public var seed: UInt64 = 0
    public init() {}

    /// The meta predictor's defaults: many more rows (devices × architectures), so fewer epochs,
    /// larger batches and lighter decay.
    public static var meta: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.maxEpochs = 40
        c.batchSize = 256
        c.patience = 6
        c.weightDecay = 1e-3
        return c
    }
}

/// What a training run did.
public struct FitReport: Codable, Equatable, Sendable {
    public var epochs: Int
    public var bestEpoch: Int
    public var trainSize: Int
    public var validationSize: Int
    /// Nil when training ran without a validation part.
    public var validationLoss: Double?
}

extension Regressor {
    /// Fits a regressor to `rows` [n, d] and `targets` with Adam on the mean squared error,
    /// keeping the weights of the epoch with the lowest validation loss. From `initial` (fine-tuning),
    /// training starts at its weights and keeps its normalisation.
    public static func fit(rows: Tensor, targets: [Float], configuration c: TrainingConfiguration,
                           initial: Regressor? = nil) -> (Regressor, FitReport) {
        let n = rows.shape[0], d = rows.shape[1]
        precondition(n == targets.count && n >= 2, "fit needs at least 2 rows with one target each")
        var rng = SeededGenerator(seed: c.seed)
        var order = Array(0..<n)
        rng.shuffle(&order)
        // No validation part when the fraction is 0: all epochs run and the last weights are kept.
        let validationCount = c.validationFraction <= 0 ? 0 : min(max(1, Int(Double(n) * c.validationFraction)), n - 1)
        let validation = Array(order.prefix(validationCount)), training = Array(order.dropFirst(validationCount))

        // Normalisation from the training part only.
        var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 0, count: d)
        for i in training { for j in 0..<d { mean[j] += rows.scalars[i * d + j] } }
        mean = mean.map { $0 / Float(training.count) }
        for i in training { for j in 0..<d { let v = rows.scalars[i * d + j] - mean[j]; std[j] += v * v } }
        std = std.map { let s = ($0 / Float(training.count)).squareRoot(); return s > 1e-6 ? s : 1 }
        var tMean = training.reduce(Float(0)) { $0 + targets[$1] } / Float(training.count)
        var tStd = max((training.reduce(Float(0)) { $0 + (targets[$1] - tMean) * (targets[$1] - tMean) } / Float(training.count)).squareRoot(), 1e-6)
        if let initial { (mean, std, tMean, tStd) = (initial.inputMean, initial.inputStd, initial.targetMean, initial.targetStd) }

        let sizes = initial.map { [d] + $0.layers.map(\.outputs) } ?? [d] + c.hidden + [1]
        // The linear term first (starting at zero), then the MLP layers.
        let shapes = [(d, 1)] + (0..<(sizes.count - 1)).map { (sizes[$0], sizes[$0 + 1]) }
        let parameters: [Variable] = shapes.enumerated().flatMap { k, shape -> [Variable] in
            let bound = k == 0 ? 0 : (6 / Float(shape.0)).squareRoot()
            return [Variable(.uniform(shape: [shape.1, shape.0], low: -bound, high: bound, using: &rng), requiresGrad: true),
                    Variable(Tensor(zeros: [shape.1]), requiresGrad: true)]
        }
        if let initial {
            for (k, layer) in ([initial.linearTerm] + initial.layers).enumerated() {
                parameters[2 * k].value = Tensor(shape: [layer.outputs, layer.inputs], scalars: layer.weight)
                parameters[2 * k + 1].value = Tensor(shape: [layer.outputs], scalars: layer.bias)
            }
        }
        func snapshot() -> [DenseLayer] {
            shapes.enumerated().map { k, shape in
                DenseLayer(inputs: shape.0, outputs: shape.1, weight: parameters[2 * k].value.scalars,
                           bias: parameters[2 * k + 1].value.scalars)
            }
        }
        let initial = snapshot()
        var model = Regressor(linearTerm: initial[0], layers: Array(initial.dropFirst()), inputMean: mean, inputStd: std,
                              targetMean: tMean, targetStd: tStd)
        // Normalised once; minibatches only gather rows.
        var normalized = rows.scalars, scaledTargets = targets
        for i in 0..<n {
            for j in 0..<d { normalized[i * d + j] = (normalized[i * d + j] - mean[j]) / std[j] }
            scaledTargets[i] = (targets[i] - tMean) / tStd
        }
        func batch(_ indices: ArraySlice<Int>) -> (Variable, Variable) {
            var x = [Float]()
            x.reserveCapacity(indices.count * d)
            for i in indices { x.append(contentsOf: normalized[(i * d)..<((i + 1) * d)]) }
            return (Variable(Tensor(shape: [indices.count, d], scalars: x)),
                    Variable(Tensor(shape: [indices.count, 1], scalars: indices.map { scaledTargets[$0] })))
        }
        let (vx, vy) = batch(validation[...])
        let adam = Adam(parameters: parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
        var best = Double.infinity, bestEpoch = 0, epoch = 0
        var shuffled = training
        while epoch < c.maxEpochs && epoch - bestEpoch <= c.patience {
            epoch += 1
            rng.shuffle(&shuffled)
            for start in stride(from: 0, to: shuffled.count, by: c.batchSize) {
                let (x, y) = batch(shuffled[start..<min(start + c.batchSize, shuffled.count)])
                zeroGradients(parameters)
                meanSquaredError(model.forward(x, parameters: parameters), y).backward()
                adam.step()
            }
            let loss = validation.isEmpty ? -Double(epoch)
                : Double(withoutTape { meanSquaredError(model.forward(vx, parameters: parameters).value, vy.value) })
            if loss < best {
                best = loss
                bestEpoch = epoch
                let layers = snapshot()
                model.linearTerm = layers[0]
                model.layers = Array(layers.dropFirst())
            }
        }
        return (model, FitReport(epochs: epoch, bestEpoch: bestEpoch, trainSize: training.count,
                                 validationSize: validation.count, validationLoss: validation.isEmpty ? nil : best))
    }
}
