import Autodiff
import NB201Space
import Evaluation
import Search

/// NB201 by official code: one draw per random architecture, 5 operations per edge.
public struct NB201Moves: BaselineMoves {
    public init() {}

    public func random(_ rng: inout SeededGenerator) -> Int { Int(rng.next() % UInt64(NB201Architecture.spaceSize)) }

    public func neighbours(_ code: Int) -> [Int] {
        let ops = NB201Architecture(code: code).operations
        return (0..<ops.count).flatMap { e in
            NB201Operation.allCases.filter { $0 != ops[e] }.map { op -> Int in
                var changed = ops
                changed[e] = op
                return NB201Architecture(operations: changed).code
            }
        }
    }

    public func child(_ a: Int, _ b: Int, _ rng: inout SeededGenerator) -> Int {
        let (p, q) = (NB201Architecture(code: a).operations, NB201Architecture(code: b).operations)
        let ops = (0..<p.count).map { e -> NB201Operation in
            if rng.nextUniform() < 1 / Float(p.count) { return NB201Operation.allCases[Int(rng.next() % 5)] }
            return rng.nextUniform() < 0.5 ? p[e] : q[e]
        }
        return NB201Architecture(operations: ops).code
    }
}

extension Baselines {
    /// Runs the baseline called `name` on NB201 (architectures by official code).
    public static func run(_ name: String, budget: Int, seed: UInt64, objective: @escaping (Int) -> ObjectivePoint) -> [ObjectivePoint] {
        run(name, moves: NB201Moves(), budget: budget, seed: seed, objective: objective)
    }

    /// A uniformly drawn NB201 architecture code.
    static func randomCode(_ rng: inout SeededGenerator) -> Int { NB201Moves().random(&rng) }
}
