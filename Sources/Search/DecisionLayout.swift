import Autodiff
import SearchSpaces

/// How the hypernetwork's flat logits [Σ choices] split into a space's decisions: consecutive
/// decisions with the same number of choices form a run, handled as one matrix [decisions,
/// choices] (NB201: one run 6 × 5; OFA: 45 × 3 for kernels, expands and depths, then 1 × 25).
public struct DecisionLayout: Equatable, Sendable {
    public struct Run: Equatable, Sendable {
        /// Offset of the run's first logit, its decisions and the choices of each.
        public var offset: Int
        public var decisions: Int
        public var choices: Int
        var width: Int { decisions * choices }
    }

    public let runs: [Run]
    /// Number of logits (Σ choices).
    public let width: Int

    public init(_ decisions: [Decision]) {
        var runs: [Run] = [], offset = 0
        for d in decisions {
            if let last = runs.last, last.choices == d.choices.count {
                runs[runs.count - 1].decisions += 1
            } else {
                runs.append(Run(offset: offset, decisions: 1, choices: d.choices.count))
            }
            offset += d.choices.count
        }
        self.runs = runs
        width = offset
    }

    public init<S: SearchSpace>(of space: S) { self.init(space.decisions) }

    /// Each run of flat logits [width] as a matrix [decisions, choices], taped. Sampling and the
    /// entropy term take these matrices, so that the gradients of both meet in one node.
    public func matrices(_ logits: Variable) -> [Variable] {
        precondition(logits.value.count == width, "DecisionLayout: \(logits.value.count) logits for \(width) choices")
        if runs.count == 1 { return [reshape(logits, to: [runs[0].decisions, runs[0].choices])] }
        let row = reshape(logits, to: [1, width])
        return runs.map { reshape(sliceChannels(row, $0.offset..<($0.offset + $0.width)), to: [$0.decisions, $0.choices]) }
    }

    /// The matrices of `matrices` joined back into one flat vector [width], taped.
    func joined(_ parts: [Variable]) -> Variable {
        if parts.count == 1 { return reshape(parts[0], to: [width]) }
        return reshape(concatChannels(parts.map { reshape($0, to: [1, $0.value.count]) }), to: [width])
    }

    /// A one-hot sample [width] of every decision from the softmax of its logits (`matrices`), with
    /// the ReinMax gradient (decisions drawn in order, one uniform each).
    public func reinMaxSample(_ matrices: [Variable], using rng: inout SeededGenerator) -> Variable {
        joined(matrices.map { Search.reinMaxSample($0, using: &rng) })
    }

    /// Σ p log p over every decision's softmax of the logits `matrices` (the negative entropy), taped.
    public func negativeEntropy(_ matrices: [Variable]) -> Variable {
        let terms = matrices.map { sum(multiply(softmax($0), logSoftmax($0))) }
        return terms.count == 1 ? terms[0] : add(terms)
    }

    /// The most probable choice of each decision.
    public func argmax(_ logits: [Float]) -> [Int] {
        precondition(logits.count == width, "DecisionLayout: \(logits.count) logits for \(width) choices")
        return runs.flatMap { run in
            (0..<run.decisions).map { d in
                let start = run.offset + d * run.choices
                let row = logits[start..<(start + run.choices)]
                return row.indices.max { row[$0] < row[$1] }! - start
            }
        }
    }
}
