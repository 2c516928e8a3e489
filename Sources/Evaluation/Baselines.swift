import Autodiff
import SearchSpaces
import Search

/// How the baselines move through a space: architectures as comparable keys (NB201: official
/// codes; other spaces: canonical strings), random draws, one-decision neighbours and children.
public protocol BaselineMoves {
    associatedtype Key: Hashable & Comparable
    func random(_ rng: inout SeededGenerator) -> Key
    /// The architectures one decision change away.
    func neighbours(_ key: Key) -> [Key]
    /// Uniform crossover of two parents per decision, each decision mutated with probability
    /// 1 / decisions.
    func child(_ p: Key, _ q: Key, _ rng: inout SeededGenerator) -> Key
}

/// An architecture by its canonical string (identity and order), with one choice vector of it.
public struct ChoiceKey: Hashable, Comparable, Sendable {
    public let string: String
    public let choices: [Int]
    public static func == (a: ChoiceKey, b: ChoiceKey) -> Bool { a.string == b.string }
    public static func < (a: ChoiceKey, b: ChoiceKey) -> Bool { a.string < b.string }
    public func hash(into hasher: inout Hasher) { hasher.combine(string) }
}

/// Any space by canonical string, moving on its choice vectors (OFA: a skipped layer's settings
/// are not part of the architecture, so a change there is no move).
public struct ChoiceMoves<Space: SearchSpace>: BaselineMoves {
    public let space: Space
    let counts: [Int]
    public init(space: Space) {
        self.space = space
        counts = space.decisions.map(\.choices.count)
    }

    /// The key of an architecture.
    public func key(_ architecture: Space.Architecture) -> ChoiceKey {
        ChoiceKey(string: space.string(of: architecture), choices: space.choices(of: architecture))
    }

    func key(_ choices: [Int]) -> ChoiceKey { key(space.architecture(choices: choices)) }

    public func random(_ rng: inout SeededGenerator) -> ChoiceKey { key(counts.map { Int(rng.next() % UInt64($0)) }) }

    public func neighbours(_ key: ChoiceKey) -> [ChoiceKey] {
        let c = key.choices
        let all = c.indices.flatMap { d in
            (0..<counts[d]).filter { $0 != c[d] }.map { choice -> ChoiceKey in
                var changed = c
                changed[d] = choice
                return self.key(changed)
            }
        }
        return Array(Set(all).subtracting([key])).sorted()
    }

    public func child(_ a: ChoiceKey, _ b: ChoiceKey, _ rng: inout SeededGenerator) -> ChoiceKey {
        let (p, q) = (a.choices, b.choices)
        return key(p.indices.map { d in
            if rng.nextUniform() < 1 / Float(p.count) { return Int(rng.next() % UInt64(counts[d])) }
            return rng.nextUniform() < 0.5 ? p[d] : q[d]
        })
    }
}

/// Black-box multi-objective baselines on the objectives of one device. Each queries `budget`
/// distinct architectures through `objective` and returns them; their front is the
/// non-dominated subset.
public enum Baselines {
    public static let names = ["random", "local search", "NSGA-II"]

    /// The key of a baseline's result at the `k`-th of the evaluation's budgets: its name at the
    /// first (`--baseline-budget`), "name @B" at another B.
    public static func key(_ name: String, budgets: [Int], at k: Int) -> String { k == 0 ? name : "\(name) @\(budgets[k])" }

    /// Runs the baseline called `name` with `moves`.
    public static func run<M: BaselineMoves>(_ name: String, moves: M, budget: Int, seed: UInt64,
                                             objective: @escaping (M.Key) -> ObjectivePoint) -> [ObjectivePoint] {
        var oracle = Oracle(budget: budget, objective: objective)
        var rng = SeededGenerator(seed: seed)
        switch name {
        case "random": randomSearch(moves, &oracle, &rng)
        case "local search": paretoLocalSearch(moves, &oracle, &rng)
        default: nsga2(moves, &oracle, &rng)
        }
        return oracle.cache.keys.sorted().map { oracle.cache[$0]! }
    }

    /// Counts distinct queries against the budget.
    struct Oracle<Key: Hashable> {
        let budget: Int
        let objective: (Key) -> ObjectivePoint
        var cache: [Key: ObjectivePoint] = [:]
        var exhausted: Bool { cache.count >= budget }
        mutating func query(_ key: Key) -> ObjectivePoint? {
            if let p = cache[key] { return p }
            guard !exhausted else { return nil }
            let p = objective(key)
            cache[key] = p
            return p
        }
    }

    static func randomSearch<M: BaselineMoves>(_ moves: M, _ oracle: inout Oracle<M.Key>, _ rng: inout SeededGenerator) {
        while !oracle.exhausted { _ = oracle.query(moves.random(&rng)) }
    }

    /// Pareto local search: from a random start, repeatedly query an unvisited neighbour of a
    /// random member of the current non-dominated archive; restart at random when none is left.
    static func paretoLocalSearch<M: BaselineMoves>(_ moves: M, _ oracle: inout Oracle<M.Key>, _ rng: inout SeededGenerator) {
        while !oracle.exhausted {
            let front = nonDominated(oracle.cache)
            var candidates = front.flatMap { moves.neighbours($0) }.filter { oracle.cache[$0] == nil }
            if candidates.isEmpty { candidates = [moves.random(&rng)] }
            _ = oracle.query(candidates[Int(rng.next() % UInt64(candidates.count))])
        }
    }

    /// NSGA-II (Deb et al., 2002): population 20, binary tournaments on rank and crowding,
    /// uniform crossover, per-decision mutation with probability 1/decisions.
    static func nsga2<M: BaselineMoves>(_ moves: M, _ oracle: inout Oracle<M.Key>, _ rng: inout SeededGenerator, population size: Int = 20) {
        var population: [M.Key] = []
        while population.count < size && !oracle.exhausted {
            let c = moves.random(&rng)
            if oracle.query(c) != nil, !population.contains(c) { population.append(c) }
        }
        var stalled = 0
        while !oracle.exhausted && stalled < 1000 {
            let (rank, crowding) = rankAndCrowding(population, oracle.cache)
            func tournament() -> M.Key {
                let a = Int(rng.next() % UInt64(population.count)), b = Int(rng.next() % UInt64(population.count))
                return (rank[a], -crowding[a]) < (rank[b], -crowding[b]) ? population[a] : population[b]
            }
            var children: [M.Key] = []
            let before = oracle.cache.count
            while children.count < size && !oracle.exhausted {
                let (p, q) = (tournament(), tournament())
                let child = moves.child(p, q, &rng)
                if oracle.query(child) != nil { children.append(child) }
            }
            stalled = oracle.cache.count == before ? stalled + 1 : 0
            let union = Array(Set(population + children)).sorted()   // sorted: Set order changes between processes
            let (unionRank, unionCrowding) = rankAndCrowding(union, oracle.cache)
            population = union.indices.sorted { (unionRank[$0], -unionCrowding[$0], $0) < (unionRank[$1], -unionCrowding[$1], $1) }
                .prefix(size).map { union[$0] }
        }
        randomSearch(moves, &oracle, &rng)  // only if the population stopped producing new architectures
    }

    static func nonDominated<Key: Comparable>(_ cache: [Key: ObjectivePoint]) -> [Key] {
        cache.keys.sorted().filter { k in !cache.values.contains { ParetoMetrics.dominates($0, cache[k]!) } }
    }

    /// Non-dominated sorting rank (0 = best) and crowding distance of each member.
    static func rankAndCrowding<Key: Hashable>(_ members: [Key], _ cache: [Key: ObjectivePoint]) -> ([Int], [Double]) {
        let points = members.map { cache[$0]! }
        var rank = [Int](repeating: -1, count: members.count)
        var crowding = [Double](repeating: 0, count: members.count)
        var level = 0, remaining = Set(members.indices)
        while !remaining.isEmpty {
            let layer = remaining.sorted().filter { i in !remaining.contains { ParetoMetrics.dominates(points[$0], points[i]) } }
            for i in layer { rank[i] = level }
            for m in 0..<(points.first?.dimension ?? 0) {
                let sorted = layer.sorted { (points[$0].values[m], $0) < (points[$1].values[m], $1) }
                let span = max(points[sorted.last!].values[m] - points[sorted.first!].values[m], 1e-12)
                crowding[sorted.first!] = .infinity
                crowding[sorted.last!] = .infinity
                if sorted.count > 2 {
                    for k in 1..<(sorted.count - 1) {
                        crowding[sorted[k]] += (points[sorted[k + 1]].values[m] - points[sorted[k - 1]].values[m]) / span
                    }
                }
            }
            remaining.subtract(layer)
            level += 1
        }
        return (rank, crowding)
    }
}
