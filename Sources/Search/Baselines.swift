import Autodiff
import SearchSpaces

/// Black-box multi-objective baselines on the tabular objectives of one device. Each queries
/// `budget` distinct architectures (by official index) through `objective` and returns them; their
/// front is the non-dominated subset.
public enum Baselines {
    public static let names = ["random", "local search", "NSGA-II"]

    /// Runs the baseline called `name`.
    public static func run(_ name: String, budget: Int, seed: UInt64, objective: @escaping (Int) -> ObjectivePoint) -> [ObjectivePoint] {
        var oracle = Oracle(budget: budget, objective: objective)
        var rng = SeededGenerator(seed: seed)
        switch name {
        case "random": randomSearch(&oracle, &rng)
        case "local search": paretoLocalSearch(&oracle, &rng)
        default: nsga2(&oracle, &rng)
        }
        return oracle.cache.values.map { $0 }
    }

    /// Counts distinct queries against the budget.
    struct Oracle {
        let budget: Int
        let objective: (Int) -> ObjectivePoint
        var cache: [Int: ObjectivePoint] = [:]
        var exhausted: Bool { cache.count >= budget }
        mutating func query(_ index: Int) -> ObjectivePoint? {
            if let p = cache[index] { return p }
            guard !exhausted else { return nil }
            let p = objective(index)
            cache[index] = p
            return p
        }
    }

    static func randomCode(_ rng: inout SeededGenerator) -> Int { Int(rng.next() % UInt64(NB201Architecture.spaceSize)) }

    /// The codes one edge change away from `code`.
    static func neighbours(_ code: Int) -> [Int] {
        let ops = NB201Architecture(code: code).operations
        return (0..<ops.count).flatMap { e in
            NB201Operation.allCases.filter { $0 != ops[e] }.map { op -> Int in
                var changed = ops
                changed[e] = op
                return NB201Architecture(operations: changed).code
            }
        }
    }

    static func randomSearch(_ oracle: inout Oracle, _ rng: inout SeededGenerator) {
        while !oracle.exhausted { _ = oracle.query(randomCode(&rng)) }
    }

    /// Pareto local search: from a random start, repeatedly query an unvisited neighbour of a
    /// random member of the current non-dominated archive; restart at random when none is left.
    static func paretoLocalSearch(_ oracle: inout Oracle, _ rng: inout SeededGenerator) {
        while !oracle.exhausted {
            let front = nonDominated(oracle.cache)
            var candidates = front.flatMap { neighbours($0) }.filter { oracle.cache[$0] == nil }
            if candidates.isEmpty { candidates = [randomCode(&rng)] }
            _ = oracle.query(candidates[Int(rng.next() % UInt64(candidates.count))])
        }
    }

    /// NSGA-II (Deb et al., 2002): population 20, binary tournaments on rank and crowding,
    /// uniform crossover, per-edge mutation with probability 1/6.
    static func nsga2(_ oracle: inout Oracle, _ rng: inout SeededGenerator, population size: Int = 20) {
        var population: [Int] = []
        while population.count < size && !oracle.exhausted {
            let c = randomCode(&rng)
            if oracle.query(c) != nil, !population.contains(c) { population.append(c) }
        }
        var stalled = 0
        while !oracle.exhausted && stalled < 1000 {
            let (rank, crowding) = rankAndCrowding(population, oracle.cache)
            func tournament() -> Int {
                let a = Int(rng.next() % UInt64(population.count)), b = Int(rng.next() % UInt64(population.count))
                return (rank[a], -crowding[a]) < (rank[b], -crowding[b]) ? population[a] : population[b]
            }
            var children: [Int] = []
            let before = oracle.cache.count
            while children.count < size && !oracle.exhausted {
                let (p, q) = (NB201Architecture(code: tournament()).operations, NB201Architecture(code: tournament()).operations)
                let ops = (0..<p.count).map { e -> NB201Operation in
                    if rng.nextUniform() < 1 / Float(p.count) { return NB201Operation.allCases[Int(rng.next() % 5)] }
                    return rng.nextUniform() < 0.5 ? p[e] : q[e]
                }
                let child = NB201Architecture(operations: ops).code
                if oracle.query(child) != nil { children.append(child) }
            }
            stalled = oracle.cache.count == before ? stalled + 1 : 0
            let union = Array(Set(population + children)).sorted()   // sorted: Set order changes between processes
            let (unionRank, unionCrowding) = rankAndCrowding(union, oracle.cache)
            population = union.indices.sorted { (unionRank[$0], -unionCrowding[$0], $0) < (unionRank[$1], -unionCrowding[$1], $1) }
                .prefix(size).map { union[$0] }
        }
        randomSearch(&oracle, &rng)  // only if the population stopped producing new architectures
    }

    static func dominates(_ a: ObjectivePoint, _ b: ObjectivePoint) -> Bool {
        a.error <= b.error && a.latency <= b.latency && (a.error < b.error || a.latency < b.latency)
    }

    static func nonDominated(_ cache: [Int: ObjectivePoint]) -> [Int] {
        cache.keys.sorted().filter { k in !cache.values.contains { dominates($0, cache[k]!) } }
    }

    /// Non-dominated sorting rank (0 = best) and crowding distance of each member.
    static func rankAndCrowding(_ members: [Int], _ cache: [Int: ObjectivePoint]) -> ([Int], [Double]) {
        let points = members.map { cache[$0]! }
        var rank = [Int](repeating: -1, count: members.count)
        var crowding = [Double](repeating: 0, count: members.count)
        var level = 0, remaining = Set(members.indices)
        while !remaining.isEmpty {
            let layer = remaining.sorted().filter { i in !remaining.contains { dominates(points[$0], points[i]) } }
            for i in layer { rank[i] = level }
            for key in [\ObjectivePoint.error, \ObjectivePoint.latency] {
                let sorted = layer.sorted { (points[$0][keyPath: key], $0) < (points[$1][keyPath: key], $1) }
                let span = max(points[sorted.last!][keyPath: key] - points[sorted.first!][keyPath: key], 1e-12)
                crowding[sorted.first!] = .infinity
                crowding[sorted.last!] = .infinity
                if sorted.count > 2 {
                    for k in 1..<(sorted.count - 1) {
                        crowding[sorted[k]] += (points[sorted[k + 1]][keyPath: key] - points[sorted[k - 1]][keyPath: key]) / span
                    }
                }
            }
            remaining.subtract(layer)
            level += 1
        }
        return (rank, crowding)
    }
}
