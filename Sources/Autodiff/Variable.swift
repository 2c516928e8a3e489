/// A node of the reverse-mode tape: a tensor value, its accumulated gradient, and how to send a
/// gradient back to the nodes it was computed from.
///
/// Leaves created with `requiresGrad: true` are trainable parameters. Ops on variables record a
/// node only when some input requires a gradient and recording is on (see `withoutTape`), so the
/// same model code runs as a tape-free inference path.
public final class Variable {
    /// The value computed in the forward pass (optimisers update leaves in place).
    public var value: Tensor { didSet { version &+= 1 } }
    /// Changes whenever `value` is written, so derived values (e.g. stacked weights) can be cached.
    public private(set) var version = 0
    /// The gradient accumulated by `backward`, for leaves that require one.
    public var grad: Tensor?
    /// Whether gradients flow to this node.
    public let requiresGrad: Bool
    let parents: [Variable]
    /// Maps the gradient of this node to one gradient per parent (nil: none for that parent).
    let pullback: ((Tensor) -> [Tensor?])?

    /// A leaf: a constant input, or a parameter when `requiresGrad` is true.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.parents = []
        self.pullback = nil
    }

    private init(value: Tensor, parents: [Variable], pullback: @escaping (Tensor) -> [Tensor?]) {
        self.value = value
        self.requiresGrad = true
        self.parents = parents
        self.pullback = pullback
    }

    /// The result of an op: records parents and pullback only when a gradient can flow. Other
    /// modules define their own ops with it (the pullback returns one gradient per parent).
    public static func result(_ value: Tensor, parents: [Variable],
                       pullback: @escaping (Tensor) -> [Tensor?]) -> Variable {
        guard TapeRecording.isOn, parents.contains(where: \.requiresGrad) else {
            return Variable(value)
        }
        return Variable(value: value, parents: parents, pullback: pullback)
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }

    /// Runs the reverse pass from this node, seeded with `seed` (ones by default), and
    /// accumulates gradients into every reachable leaf that requires one.
    public func backward(seed: Tensor? = nil) {
        let seed = seed ?? Tensor(repeating: 1, shape: value.shape)
        precondition(seed.shape == value.shape, "backward: seed shape \(seed.shape) ≠ \(value.shape)")
        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        for node in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let pullback = node.pullback else {
                if node.requiresGrad {
                    if node.grad == nil { node.grad = g } else { node.grad!.add(g) }
                }
                continue
            }
            let parentGrads = pullback(g)
            for (parent, pg) in zip(node.parents, parentGrads) where parent.requiresGrad {
                guard let pg else { continue }
                let key = ObjectIdentifier(parent)
                if grads[key] == nil { grads[key] = pg } else { grads[key]!.add(pg) }
            }
        }
    }

    /// Nodes reachable from self that carry gradient, parents before children.
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard node.requiresGrad, visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad { stack.append((p, false)) }
        }
        return order
    }
}

/// Whether ops record tape nodes on the current thread.
enum TapeRecording {
    @TaskLocal static var isOn = true
}

/// Whether ops on the current task record tape nodes (false inside `withoutTape`).
public var isRecordingTape: Bool { TapeRecording.isOn }

/// Runs `body` without recording tape nodes: the inference path.
public func withoutTape<R>(_ body: () throws -> R) rethrows -> R {
    try TapeRecording.$isOn.withValue(false) { try body() }
}
