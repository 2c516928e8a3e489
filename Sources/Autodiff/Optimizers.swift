import Foundation
// Optimisers that update parameter leaves in place from their accumulated gradients.

/// The cosine schedule's factor at `step` of `total` steps, ½·(1 + cos(π·step/total)): 1 at the
/// start, 0 at the end. A rate decays from a to b as b + (a − b)·factor.
public func cosineFactor(step: Int, of total: Int) -> Float {
    0.5 * (1 + Float(cos(Double.pi * Double(step) / Double(max(total, 1)))))
}

/// Clears the gradients of `parameters`.
public func zeroGradients(_ parameters: [Variable]) {
    for p in parameters { p.grad = nil }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`; returns the norm before.
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maxNorm: Float) -> Float {
    let norm = Float(parameters.reduce(0.0) { $0 + ($1.grad?.squaredNorm() ?? 0) }.squareRoot())
    if norm > maxNorm, norm > 0 {
        let factor = maxNorm / (norm + 1e-6)
        for p in parameters { p.grad = p.grad?.scaled(by: factor) }
    }
    return norm
}

/// Stochastic gradient descent with momentum and L2 weight decay (PyTorch's update rule):
/// v ← μ·v + (g + λ·w); w ← w − lr·v.
public final class SGD {
    public let parameters: [Variable]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var velocity: [Tensor?]

    public init(parameters: [Variable], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = Array(repeating: nil, count: parameters.count)
    }

    /// Applies one update from the current gradients (parameters without gradient are skipped).
    public func step() {
        for (i, p) in parameters.enumerated() {
            guard var g = p.grad else { continue }
            if weightDecay != 0 { g.add(p.value, scaledBy: weightDecay) }
            if momentum != 0 {
                if var v = velocity[i] {
                    v = v.scaled(by: momentum)
                    v.add(g)
                    velocity[i] = v
                    g = v
                } else {
                    velocity[i] = g
                }
            }
            p.value.add(g, scaledBy: -learningRate)
        }
    }

    /// The momentum buffers, flattened in parameter order (empty for a buffer not yet created),
    /// for checkpoints.
    public var velocityState: [[Float]] {
        get { velocity.map { $0?.scalars ?? [] } }
        set {
            precondition(newValue.count == parameters.count, "SGD state for \(newValue.count) parameters, not \(parameters.count)")
            velocity = zip(newValue, parameters).map { v, p in v.isEmpty ? nil : Tensor(shape: p.value.shape, scalars: v) }
        }
    }
}

/// Adam with bias correction and L2 weight decay added to the gradient (PyTorch's `Adam`).
public final class Adam {
    public let parameters: [Variable]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var firstMoment: [[Float]], secondMoment: [[Float]]
    private var steps = 0

    public init(parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoment = firstMoment
    }

    /// Applies one update from the current gradients (parameters without gradient are skipped).
    public func step() {
        steps += 1
        let c1 = 1 - Float(pow(Double(beta1), Double(steps)))
        let c2 = 1 - Float(pow(Double(beta2), Double(steps)))
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            p.value.scalars.withUnsafeMutableBufferPointer { w in
                for j in 0..<g.count {
                    let gj = g.scalars[j] + weightDecay * w[j]
                    firstMoment[i][j] = beta1 * firstMoment[i][j] + (1 - beta1) * gj
                    secondMoment[i][j] = beta2 * secondMoment[i][j] + (1 - beta2) * gj * gj
                    let mHat = firstMoment[i][j] / c1, vHat = secondMoment[i][j] / c2
                    w[j] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
                }
            }
        }
    }

    /// Moments and step count, for checkpoints.
    public struct State: Equatable, Sendable {
        public var firstMoment: [[Float]], secondMoment: [[Float]]
        public var steps: Int

        public init(firstMoment: [[Float]], secondMoment: [[Float]], steps: Int) {
            (self.firstMoment, self.secondMoment, self.steps) = (firstMoment, secondMoment, steps)
        }
    }

    public var state: State {
        get { State(firstMoment: firstMoment, secondMoment: secondMoment, steps: steps) }
        set {
            precondition(newValue.firstMoment.map(\.count) == firstMoment.map(\.count), "Adam state of another shape")
            (firstMoment, secondMoment, steps) = (newValue.firstMoment, newValue.secondMoment, newValue.steps)
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
