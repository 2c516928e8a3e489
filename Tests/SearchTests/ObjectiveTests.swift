import Autodiff
import DataFiles
import Foundation
import Predictors
import Testing
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import NB201Space

/// Central differences of a scalar function of a vector.
func numericGradient(_ x: [Float], step: Float = 1e-3, _ f: ([Float]) -> Double) -> [Double] {
    x.indices.map { i in
        var plus = x, minus = x
        plus[i] += step
        minus[i] -= step
        return (f(plus) - f(minus)) / Double(2 * step)
    }
}

/// The sign of every hidden ReLU input of each regressor of `ensemble` at the raw input `features`.
/// A regressor is linear between two inputs with the same pattern: its only kinks are sign flips.
func reluPattern(_ ensemble: [Regressor], _ features: [Float]) -> [Bool] {
    ensemble.flatMap { r -> [Bool] in
        var h = features.indices.map { (features[$0] - r.inputMean[$0]) / r.inputStd[$0] }
        var signs: [Bool] = []
        for layer in r.layers.dropLast() {
            let z = (0..<layer.outputs).map { o in
                (0..<layer.inputs).reduce(layer.bias[o]) { $0 + layer.weight[o * layer.inputs + $1] * h[$1] }
            }
            signs += z.map { $0 > 0 }
            h = z.map { max($0, 0) }
        }
        return signs
    }
}

/// The first seeded relaxed encoding (from `seed` on) whose central-difference stencil, every
/// coordinate ±`step`, stays on one linear piece of the ReLU networks that `pattern` describes.
/// Finite differences check a gradient only where the function is smooth over the stencil. A model
/// fitted in the test differs in its last bits between OpenBLAS kernels, so a fixed point can sit
/// within a step of a kink on one kernel and not on another; which seed is first may then differ,
/// but every coordinate of the point found is checked at full tolerance.
func smoothRelaxedEncoding(from seed: UInt64, step: Float, pattern: ([Float]) -> [Bool]) -> [Float] {
    for s in seed..<(seed + 200) {
        let x = relaxedEncoding(seed: s), centre = pattern(x)
        let smooth = x.indices.allSatisfy { i in
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            return pattern(plus) == centre && pattern(minus) == centre
        }
        if smooth { return x }
    }
    Issue.record("no seeded encoding from \(seed) on has a kink-free stencil of ±\(step)")
    return relaxedEncoding(seed: seed)
}

/// A relaxed encoding: a random point inside each edge's simplex.
func relaxedEncoding(seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<6).flatMap { _ -> [Float] in
        let raw = (0..<5).map { _ in rng.nextUniform() + 0.1 }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }
}

@Suite struct PathEncodingTests {
    @Test func jacobianMatchesFiniteDifferences() {
        let x = relaxedEncoding(seed: 1)
        let (_, jacobian) = PathEncoding.featuresAndJacobian(x)
        for row in 0..<PathEncoding.featureCount {
            let numeric = numericGradient(x) { Double(PathEncoding.features($0)[row]) }
            for c in 0..<30 { #expect(abs(Double(jacobian[row * 30 + c]) - numeric[c]) < 2e-3, "row \(row) column \(c)") }
        }
    }

    @Test func connectivityGradientMatchesFiniteDifferences() {
        let x = relaxedEncoding(seed: 2)
        let numeric = numericGradient(x) { Double(PathEncoding.connectivity($0).value) }
        for (a, n) in zip(PathEncoding.connectivity(x).gradient, numeric) { #expect(abs(Double(a) - n) < 2e-3) }
    }

    @Test func connectivityIsExactOnArchitectures() throws {
        // Node 3 has no live input: the cell computes zero.
        let dead = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
        // Only 0→1→2→3 is live.
        let chain = try NB201Architecture(parsing: "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|avg_pool_3x3~2|")
        let broken = try NB201Architecture(parsing: "|none~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        #expect(!PathEncoding.isConnected(dead) && PathEncoding.isConnected(chain) && !PathEncoding.isConnected(broken))
        let f = PathEncoding.features(chain.oneHotEncoding)
        // Path 0→1→2→3 (the fourth) is live with one convolution, no 3×3.
        #expect(Array(f[30...]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
        // 341 of the 15,625 cells have no live path; the benchmark lists all of them at 90 % error.
        let disconnected = (0..<NB201Architecture.spaceSize).filter { !PathEncoding.isConnected(NB201Architecture(code: $0)) }.count
        #expect(disconnected == 341)
    }
}

@Suite struct ScalarizationTests {
    @Test(arguments: Scalarization.allCases) func gradientMatchesFiniteDifferences(_ kind: Scalarization) {
        for (l, r) in [([0.3, 0.6], [0.2, 0.8]), ([0.9, 0.05], [0.7, 0.3]), ([0.4, 0.4, 0.1], [0.1, 0.5, 0.4])] as [([Float], [Float])] {
            let v = Variable(Tensor(shape: [l.count], scalars: l), requiresGrad: true)
            scalarizedLoss(v, preference: r, cosineWeight: 0.5, scalarization: kind).backward()
            let numeric = numericGradient(l) {
                Double(scalarizedLoss(Variable(Tensor(shape: [$0.count], scalars: $0)), preference: r, cosineWeight: 0.5, scalarization: kind).value.scalars[0])
            }
            for (a, n) in zip(v.grad!.scalars, numeric) { #expect(abs(Double(a) - n) < 1e-3, "\(kind) \(l) \(r)") }
        }
    }

    /// Tchebycheff scores the largest weighted objective (within μ·log M of it), so of two points
    /// with equal weighted sums it prefers the balanced one, which the linear sum cannot tell apart.
    @Test func chebyshevScoresTheWorstWeightedObjective() {
        let r: [Float] = [0.5, 0.5]
        func loss(_ l: [Float], _ kind: Scalarization) -> Float {
            scalarizedLoss(Variable(Tensor(shape: [2], scalars: l)), preference: r, cosineWeight: 0, scalarization: kind).value.scalars[0]
        }
        #expect(abs(loss([0.4, 0.4], .linear) - loss([0.7, 0.1], .linear)) < 1e-6)
        #expect(loss([0.4, 0.4], .chebyshev) < loss([0.7, 0.1], .chebyshev))
        let smoothMax = loss([0.7, 0.1], .chebyshev)
        #expect(smoothMax >= 0.35 && smoothMax <= 0.35 + Scalarization.smoothing * log(2) + 1e-6)
        #expect(Scalarization.chebyshev.score([0.7, 0.1], preference: [0.5, 0.5]) == 0.35)
    }

    @Test func theCosineTermPullsTowardsThePreferenceRay() {
        // Equal linear part, but one loss vector is aligned with r: it scores lower.
        let r: [Float] = [0.5, 0.5]
        let aligned = scalarizedLoss(Variable(Tensor(shape: [2], scalars: [0.4, 0.4])), preference: r, cosineWeight: 0.01).value.scalars[0]
        let skewed = scalarizedLoss(Variable(Tensor(shape: [2], scalars: [0.7, 0.1])), preference: r, cosineWeight: 0.01).value.scalars[0]
        #expect(aligned < skewed)
        // And its gradient is not zero at a skewed point (the original detached it).
        let v = Variable(Tensor(shape: [2], scalars: [0.7, 0.1]), requiresGrad: true)
        scalarizedLoss(v, preference: r, cosineWeight: 0.01).backward()
        #expect(abs(v.grad!.scalars[0] - v.grad!.scalars[1]) > 1e-4)
    }
}

@Suite struct ParetoMetricsTests {
    @Test func hypervolumeOfHandDrawnPoints() {
        let points = [ObjectivePoint(error: 0.2, latency: 0.6), ObjectivePoint(error: 0.5, latency: 0.3),
                      ObjectivePoint(error: 0.6, latency: 0.5),   // dominated
                      ObjectivePoint(error: 1.2, latency: 0.0)]   // outside the box
        // (1 − 0.2)(1 − 0.6) + (1 − 0.5)(0.6 − 0.3) = 0.32 + 0.15.
        #expect(abs(ParetoMetrics.hypervolume(points) - 0.47) < 1e-12)
        #expect(ParetoMetrics.front(points).count == 3)
    }

    @Test func distancesToAFront() {
        let truth = [ObjectivePoint(error: 0, latency: 1), ObjectivePoint(error: 1, latency: 0)]
        let found = [ObjectivePoint(error: 0, latency: 1.5)]
        #expect(abs(ParetoMetrics.meanNearestDistance(from: found, to: truth) - 0.5) < 1e-12)
        // IGD: (0.5 + √(1 + 2.25)) / 2.
        #expect(abs(ParetoMetrics.meanNearestDistance(from: truth, to: found) - (0.5 + 3.25.squareRoot()) / 2) < 1e-12)
    }

    @Test func boundsIgnoreArchitecturesAtChance() {
        let b = ObjectiveBounds(points: [ObjectivePoint(error: 90, latency: 0.001), ObjectivePoint(error: 10, latency: 2), ObjectivePoint(error: 30, latency: 4)], gate: 90)!
        #expect(b.errorRange == 10...30 && b.latencyRange == 2...4)
        #expect(b.normalized(ObjectivePoint(error: 20, latency: 3)) == ObjectivePoint(error: 0.5, latency: 0.5))
        #expect(ObjectiveBounds(points: [ObjectivePoint(error: 95, latency: 1)], gate: 90) == nil)
    }

    /// The volume of the union of the boxes [p, 1]: every cell of the grid the points' coordinates
    /// make is inside when some point is at or below its lower corner (any dimension).
    static func bruteForceHypervolume(_ points: [ObjectivePoint]) -> Double {
        let m = points[0].dimension
        let cuts = (0..<m).map { d in Array(Set(points.map { min($0.values[d], 1) } + [1])).sorted() }
        var volume = 0.0
        func visit(_ d: Int, _ corner: [Double], _ size: Double) {
            guard d < m else {
                if points.contains(where: { p in zip(p.values, corner).allSatisfy { $0 <= $1 } }) { volume += size }
                return
            }
            for k in 0..<(cuts[d].count - 1) { visit(d + 1, corner + [cuts[d][k]], size * (cuts[d][k + 1] - cuts[d][k])) }
        }
        visit(0, [], 1)
        return volume
    }

    /// Exact hypervolume in two and three dimensions against the grid count on seeded random sets
    /// (with duplicates, shared coordinates and points outside the box), and the front in M.
    @Test(arguments: [2, 3]) func hypervolumeMatchesABruteForceCount(_ m: Int) {
        var rng = SeededGenerator(seed: UInt64(m))
        for trial in 0..<40 {
            let count = 1 + trial % 12
            // Coordinates on a coarse grid (ties) reaching past the reference point.
            var points = (0..<count).map { _ in ObjectivePoint((0..<m).map { _ in Double(rng.next() % 12) / 10 }) }
            points.append(points[0])
            let exact = ParetoMetrics.hypervolume(points)
            let inside = points.filter { $0.values.allSatisfy { $0 < 1 } }
            let brute = inside.isEmpty ? 0 : Self.bruteForceHypervolume(inside)
            #expect(abs(exact - brute) < 1e-12, "trial \(trial): \(exact) against \(brute) for \(points.map(\.values))")
            let front = ParetoMetrics.front(points)
            #expect(front.allSatisfy { p in !points.contains { ParetoMetrics.dominates($0, p) } })
            #expect(points.allSatisfy { p in front.contains(p) || front.contains { ParetoMetrics.dominates($0, p) } })
        }
    }

    @Test func threeDimensionalDistancesAndBounds() {
        let truth = [ObjectivePoint([0, 0, 1]), ObjectivePoint([1, 0, 0])]
        #expect(abs(ParetoMetrics.meanNearestDistance(from: [ObjectivePoint([0, 1, 1])], to: truth) - 1) < 1e-12)
        let b = ObjectiveBounds(points: [ObjectivePoint([10, 1, 100]), ObjectivePoint([30, 3, 300]), ObjectivePoint([95, 0, 0])], gate: 90)!
        #expect(b.ranges == [10...30, 1...3, 100...300])
        #expect(b.normalized(ObjectivePoint([20, 2, 150])) == ObjectivePoint([0.5, 0.5, 0.25]))
    }
}

@Suite struct ObjectiveListTests {
    @Test func parsesAndRefusesInOneLine() throws {
        #expect(try ObjectiveList(parsing: "latency,params").costs == [.latency, .params])
        #expect(try ObjectiveList(parsing: "latency").names == ["test_error_percent", "latency_ms"])
        for (text, fragment) in [("latency,latency", "given twice"), ("energy2", "unknown objective 'energy2'"), ("", "unknown objective ''"),
                                 ("latency,", "unknown objective ''")] {
            #expect(throws: SearchError.self) { try ObjectiveList(parsing: text) }
            do { _ = try ObjectiveList(parsing: text) } catch { #expect("\(error)".contains(fragment), "\(error)") }
        }
        #expect(try ObjectiveList(names: ["test_error_percent", "latency_ms", "params"]).costs == [.latency, .params])
        #expect(throws: SearchError.self) { try ObjectiveList(names: ["latency_ms", "test_error_percent"]) }
        #expect(throws: SearchError.self) { try ObjectiveList(names: ["test_error_percent"]) }
    }

    /// Two objectives keep the 24 angles; three take Das and Dennis's lattice: H = 6, 28 vectors on the simplex.
    @Test func preferenceDesigns() {
        let two = Fronts.preferences(count: 24)
        #expect(two.count == 24 && two[0] == [1, 0] && abs(two[23][0]) < 1e-12)
        let three = Fronts.preferences(count: 24, objectives: 3)
        #expect(three.count == 28 && Set(three).count == 28)
        #expect(three.allSatisfy { r in abs(r.reduce(0, +) - 1) < 1e-12 && r.allSatisfy { v in abs(v * 6 - (v * 6).rounded()) < 1e-9 } })
        #expect(three.contains([1, 0, 0]) && three.contains([0, 1, 0]) && three.contains([0, 0, 1]))
        #expect(Fronts.preferences(count: 10, objectives: 4).count == 10)   // H = 2: C(5, 3)
    }

    /// NB201's parameter count is a sum over the edges' operations: the linear fit the search
    /// differentiates is exact on all 15,625 cells, also at the benchmark's 1,531,546 of the all-3×3 cell.
    @Test func nb201ParametersAreALinearFunctionOfTheEncoding() throws {
        let space = NB201SearchSpace(), all = space.enumeration()!
        let params = CountedCost(.params, space: space, architectures: all)
        #expect(params.worstRelativeError < 1e-6)
        let big = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        #expect(abs(params.evaluate(space.oneHotEncoding(of: big)).value - 1_531_546) < 1)
    }
}

@Suite struct BaselineTests {
    /// A synthetic two-objective landscape over codes: latency grows with the code, error falls.
    static func objective(_ code: Int) -> ObjectivePoint {
        let x = Double(code) / Double(NB201Architecture.spaceSize)
        return ObjectivePoint(error: 10 + 80 * (1 - x) * (1 - x) + Double(code % 7), latency: 1 + 10 * x)
    }

    @Test(arguments: Baselines.names) func spendsExactlyItsBudgetAndIsSeeded(_ name: String) {
        let a = Baselines.run(name, budget: 60, seed: 3, objective: Self.objective)
        let b = Baselines.run(name, budget: 60, seed: 3, objective: Self.objective)
        #expect(a.count == 60 && Set(a) == Set(b))
    }

    /// On NB201's CIFAR-10 errors against the parameter count (a real landscape, no device), at
    /// 200 queries over seeds 0–9, Pareto local search and NSGA-II reach a mean hypervolume at least
    /// 0.004 above random sampling's (measured: 0.9799 and 0.9789 against 0.9729; a local search
    /// that restarts at random instead of stepping to neighbours reached 0.9724), and none exceeds
    /// the table's own front (0.9833).
    @Test func guidedSearchesBeatRandomSamplingOnTheTable() throws {
        let index = try NB201Index.shipped(), space = NB201SearchSpace()
        let accuracy = try CSVTable(contentsOf: ShippedData.path(NB201Index.shippedTable)).numericColumn("cifar10")
        func point(_ code: Int) -> ObjectivePoint {
            let a = NB201Architecture(code: code)
            return ObjectivePoint(error: 100 - accuracy[index.index(of: a)], latency: Double(space.cost(of: a).parameters))
        }
        let all = (0..<NB201Architecture.spaceSize).map(point)
        let bounds = ObjectiveBounds(points: all, gate: NB201Benchmark.chanceGate)!
        func hypervolume(_ points: [ObjectivePoint]) -> Double { ParetoMetrics.hypervolume(points.map(bounds.normalized)) }
        func meanHypervolume(_ name: String) -> Double {
            (0..<10).map { seed in hypervolume(Baselines.run(name, budget: 200, seed: UInt64(seed), objective: point)) }.reduce(0, +) / 10
        }
        let random = meanHypervolume("random"), local = meanHypervolume("local search"), nsga = meanHypervolume("NSGA-II")
        #expect(local >= random + 0.004 && nsga >= random + 0.004, "random \(random), local search \(local), NSGA-II \(nsga)")
        #expect(max(random, local, nsga) <= hypervolume(all), "table \(hypervolume(all))")
    }

    /// In three objectives (error, latency, parameters of NB201's table) every baseline spends its
    /// budget, is seeded, and NSGA-II's non-dominated sorting and crowding beat random sampling's
    /// hypervolume at 200 queries (seeds 0–4).
    @Test func baselinesWorkInThreeObjectives() throws {
        let index = try NB201Index.shipped(), space = NB201SearchSpace()
        let accuracy = try CSVTable(contentsOf: ShippedData.path(NB201Index.shippedTable)).numericColumn("cifar10")
        func point(_ code: Int) -> ObjectivePoint {
            let a = NB201Architecture(code: code), cost = space.cost(of: a)
            return ObjectivePoint([100 - accuracy[index.index(of: a)], Double(cost.multiplyAccumulates), Double(cost.parameters) + Double(code % 97)])
        }
        let bounds = ObjectiveBounds(points: (0..<NB201Architecture.spaceSize).map(point), gate: NB201Benchmark.chanceGate)!
        func meanHypervolume(_ name: String) -> Double {
            (0..<5).map { seed -> Double in
                let queried = Baselines.run(name, budget: 200, seed: UInt64(seed), objective: point)
                #expect(queried.count == 200 && Set(queried) == Set(Baselines.run(name, budget: 200, seed: UInt64(seed), objective: point)))
                return ParetoMetrics.hypervolume(queried.map(bounds.normalized))
            }.reduce(0, +) / 5
        }
        let random = meanHypervolume("random"), nsga = meanHypervolume("NSGA-II"), local = meanHypervolume("local search")
        #expect(nsga > random && local > random, "random \(random), local search \(local), NSGA-II \(nsga)")
    }

    @Test func neighboursDifferInOneEdge() {
        let n = NB201Moves().neighbours(1234)
        #expect(n.count == 24 && Set(n).count == 24)
        let ops = NB201Architecture(code: 1234).operations
        for c in n { #expect(zip(NB201Architecture(code: c).operations, ops).filter { $0 != $1 }.count == 1) }
    }
}
