/// A point of M minimised objectives: the accuracy objective's loss first (test error %), then
/// the costs in the search's order (latency ms, energy mJ, parameters, FLOPs; `SearchObjectives`).
public struct ObjectivePoint: Equatable, Hashable, Sendable, Codable {
    public var values: [Double]
    public init(_ values: [Double]) { self.values = values }
    /// A point of the two objectives test error (%) and latency (ms).
    public init(error: Double, latency: Double) { values = [error, latency] }
    /// The accuracy objective's loss (test error %).
    public var error: Double { values[0] }
    /// The second objective (the first cost: latency in the default search).
    public var latency: Double { values[1] }
    public var dimension: Int { values.count }
    /// Whether the loss is below `gate` (always, without a gate).
    public func isBelow(_ gate: Double?) -> Bool { ObjectiveBounds.isBelow(error, gate: gate) }
}

/// The paper's normalisation: each objective min-max scaled over all benchmark architectures
/// with a loss below the benchmark's chance gate (`SearchBenchmark.chanceGate`), so the
/// reference point is (1, …, 1).
public struct ObjectiveBounds: Equatable, Sendable, Codable {
    /// One range per objective, the error's first.
    public var ranges: [ClosedRange<Double>]

    public init(_ ranges: [ClosedRange<Double>]) { self.ranges = ranges }

    /// Whether `loss` is below a chance gate (always, without a gate).
    public static func isBelow(_ loss: Double, gate: Double?) -> Bool { gate.map { loss < $0 } ?? true }

    public init(errorRange: ClosedRange<Double>, latencyRange: ClosedRange<Double>) { ranges = [errorRange, latencyRange] }

    /// Bounds over the points with a loss below `gate` (all points when nil; nil when none is).
    public init?(points: [ObjectivePoint], gate: Double?) {
        let kept = points.filter { $0.isBelow(gate) }
        guard let first = kept.first else { return nil }
        ranges = first.values.indices.map { m in kept.lazy.map { $0.values[m] }.min()!...kept.lazy.map { $0.values[m] }.max()! }
    }

    public var errorRange: ClosedRange<Double> { ranges[0] }
    public var latencyRange: ClosedRange<Double> { ranges[1] }

    public func normalized(_ p: ObjectivePoint) -> ObjectivePoint {
        ObjectivePoint(zip(p.values, ranges).map { v, r in (v - r.lowerBound) / max(r.upperBound - r.lowerBound, 1e-12) })
    }
}

public enum ParetoMetrics {
    /// Whether `a` dominates `b`: no worse in every objective and better in one.
    public static func dominates(_ a: ObjectivePoint, _ b: ObjectivePoint) -> Bool {
        var better = false
        for (x, y) in zip(a.values, b.values) {
            if x > y { return false }
            if x < y { better = true }
        }
        return better
    }

    /// The non-dominated points (all objectives minimised), sorted lexicographically; duplicates once.
    public static func front(_ points: [ObjectivePoint]) -> [ObjectivePoint] {
        let sorted = Set(points).sorted { $0.values.lexicographicallyPrecedes($1.values) }
        guard let m = sorted.first?.dimension else { return [] }
        if m == 2 {   // a sweep: each point must improve on the best latency so far
            var out: [ObjectivePoint] = []
            var best = Double.infinity
            for p in sorted where p.values[1] < best {
                out.append(p)
                best = p.values[1]
            }
            return out
        }
        // A dominating point precedes the one it dominates in lexicographic order, and some
        // member of the front dominates any dominated point: checking the front so far suffices.
        var out: [ObjectivePoint] = []
        for p in sorted where !out.contains(where: { dominates($0, p) }) { out.append(p) }
        return out
    }

    /// The volume dominated by normalised points inside the box up to `reference` (points outside
    /// add nothing; default (1, …, 1)), exactly: a sweep in two dimensions, and in more, slabs
    /// along the last objective, each the hypervolume of the points below it in one dimension fewer.
    public static func hypervolume(_ normalized: [ObjectivePoint], reference: ObjectivePoint? = nil) -> Double {
        guard let m = normalized.first?.dimension else { return 0 }
        let reference = reference ?? ObjectivePoint([Double](repeating: 1, count: m))
        let inside = normalized.filter { p in zip(p.values, reference.values).allSatisfy { $0 < $1 } }
        let points = front(inside)
        if m == 2 {
            var area = 0.0, ceiling = reference.values[1]
            for p in points {
                area += (reference.values[0] - p.values[0]) * (ceiling - p.values[1])
                ceiling = p.values[1]
            }
            return area
        }
        let bySlab = points.sorted { $0.values[m - 1] < $1.values[m - 1] }
        let lower = ObjectivePoint(Array(reference.values.dropLast()))
        var volume = 0.0
        for k in bySlab.indices {
            let top = k + 1 < bySlab.count ? bySlab[k + 1].values[m - 1] : reference.values[m - 1]
            let thickness = top - bySlab[k].values[m - 1]
            guard thickness > 0 else { continue }
            volume += thickness * hypervolume(bySlab[...k].map { ObjectivePoint(Array($0.values.dropLast())) }, reference: lower)
        }
        return volume
    }

    /// Mean Euclidean distance from each point of `points` to its nearest point of `reference` (GD
    /// when `reference` is the true front; IGD with the arguments swapped).
    public static func meanNearestDistance(from points: [ObjectivePoint], to reference: [ObjectivePoint]) -> Double {
        guard !points.isEmpty, !reference.isEmpty else { return .nan }
        return points.reduce(0) { sum, p in
            sum + reference.map { q in zip(p.values, q.values).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }.min()!
        } / Double(points.count)
    }
}
