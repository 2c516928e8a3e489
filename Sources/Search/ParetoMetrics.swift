/// A point of two minimised objectives: test error (%) and latency (ms).
public struct ObjectivePoint: Equatable, Hashable, Sendable, Codable {
    public var error: Double
    public var latency: Double
    public init(error: Double, latency: Double) { (self.error, self.latency) = (error, latency) }
}

/// The paper's normalisation: each objective min-max scaled over all benchmark architectures
/// with error below 90 %, so the reference point is (1, 1).
public struct ObjectiveBounds: Equatable, Sendable, Codable {
    public var errorRange: ClosedRange<Double>
    public var latencyRange: ClosedRange<Double>

    public init(errorRange: ClosedRange<Double>, latencyRange: ClosedRange<Double>) {
        (self.errorRange, self.latencyRange) = (errorRange, latencyRange)
    }

    /// Bounds over the points with error below `errorCutoff`.
    public init(points: [ObjectivePoint], errorCutoff: Double = 90) {
        let kept = points.filter { $0.error < errorCutoff }
        precondition(!kept.isEmpty, "no point below the error cut-off")
        errorRange = kept.map(\.error).min()!...kept.map(\.error).max()!
        latencyRange = kept.map(\.latency).min()!...kept.map(\.latency).max()!
    }

    public func normalized(_ p: ObjectivePoint) -> ObjectivePoint {
        ObjectivePoint(error: (p.error - errorRange.lowerBound) / max(errorRange.upperBound - errorRange.lowerBound, 1e-12),
                       latency: (p.latency - latencyRange.lowerBound) / max(latencyRange.upperBound - latencyRange.lowerBound, 1e-12))
    }
}

public enum ParetoMetrics {
    /// The non-dominated points (both objectives minimised), sorted by error; duplicates once.
    public static func front(_ points: [ObjectivePoint]) -> [ObjectivePoint] {
        var out: [ObjectivePoint] = []
        var best = Double.infinity
        for p in Set(points).sorted(by: { ($0.error, $0.latency) < ($1.error, $1.latency) }) where p.latency < best {
            out.append(p)
            best = p.latency
        }
        return out
    }

    /// The area dominated by normalised points inside the box up to `reference` (points outside add nothing).
    public static func hypervolume(_ normalized: [ObjectivePoint], reference: ObjectivePoint = ObjectivePoint(error: 1, latency: 1)) -> Double {
        let inside = normalized.filter { $0.error < reference.error && $0.latency < reference.latency }
        var area = 0.0, ceiling = reference.latency
        for p in front(inside) {
            area += (reference.error - p.error) * (ceiling - p.latency)
            ceiling = p.latency
        }
        return area
    }

    /// Mean distance from each point of `points` to its nearest point of `reference` (GD when
    /// `reference` is the true front; IGD with the arguments swapped).
    public static func meanNearestDistance(from points: [ObjectivePoint], to reference: [ObjectivePoint]) -> Double {
        guard !points.isEmpty, !reference.isEmpty else { return .nan }
        return points.reduce(0) { sum, p in
            sum + reference.map { ((p.error - $0.error) * (p.error - $0.error) + (p.latency - $0.latency) * (p.latency - $0.latency)).squareRoot() }.min()!
        } / Double(points.count)
    }
}
