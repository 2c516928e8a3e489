import Foundation

/// How well a session's numbers repeat: a subset of its architectures measured again at the end
/// of the session, in a fresh order, against their stored medians; for wall time and for the
/// measuring thread's CPU time.
public struct Repeatability: Codable, Equatable, Sendable {
    /// One statistic's agreement between the two passes.
    public struct Agreement: Codable, Equatable, Sendable {
        public var spearman: Double
        public var kendall: Double
        /// Median over the architectures of |a − b| / ((a + b) / 2).
        public var medianRelativeDifference: Double

        /// The agreement of paired positive values (at least 2 pairs).
        public init(_ first: [Double], _ second: [Double]) {
            precondition(first.count == second.count && first.count >= 2, "an agreement needs at least 2 pairs")
            spearman = RankCorrelation.spearman(first, second)
            kendall = RankCorrelation.kendallTau(first, second)
            medianRelativeDifference = SampleStatistics(zip(first, second).map { abs($0 - $1) / (($0 + $1) / 2) }).median
        }
    }

    /// Architectures measured twice.
    public var count: Int
    public var wall: Agreement
    /// Nil when some architecture has no stored CPU time.
    public var cpu: Agreement?

    public init(count: Int, wall: Agreement, cpu: Agreement?) {
        (self.count, self.wall, self.cpu) = (count, wall, cpu)
    }

    /// The agreement of two passes over the architectures both hold (by string): median wall and
    /// CPU time per architecture; CPU is compared only when every such architecture has it. Nil
    /// for fewer than 3 shared architectures.
    public static func between(_ first: [String: (wall: Double, cpu: Double?)],
                               _ second: [String: (wall: Double, cpu: Double?)]) -> Repeatability? {
        let shared = first.keys.filter { second[$0] != nil }.sorted()
        guard shared.count >= 3 else { return nil }
        let a = shared.map { first[$0]! }, b = shared.map { second[$0]! }
        let cpuA = a.compactMap(\.cpu), cpuB = b.compactMap(\.cpu)
        return Repeatability(count: shared.count, wall: Agreement(a.map(\.wall), b.map(\.wall)),
                             cpu: cpuA.count == shared.count && cpuB.count == shared.count ? Agreement(cpuA, cpuB) : nil)
    }

    /// How many of `planned` architectures a session re-measures: `percent` of them, at least
    /// 10 (all when fewer), none when `percent` is 0 or fewer than 3 are planned.
    public static func subsetSize(planned: Int, percent: Double) -> Int {
        guard percent > 0, planned >= 3 else { return 0 }
        return min(planned, max(10, Int((Double(planned) * percent / 100).rounded(.up))))
    }

    /// What makes a stored check impossible (a damaged file): fewer than 3 architectures, a
    /// correlation outside −1…1, a negative or non-finite difference.
    public var problem: String? {
        guard count >= 3 else { return "a repeatability check of \(count) architectures (at least 3)" }
        for a in [wall] + (cpu.map { [$0] } ?? []) {
            guard (-1...1).contains(a.spearman), (-1...1).contains(a.kendall) else { return "a repeatability correlation outside −1…1" }
            guard a.medianRelativeDifference.isFinite, a.medianRelativeDifference >= 0 else {
                return "a repeatability median relative difference that is not a finite value ≥ 0"
            }
        }
        return nil
    }

    /// The agreement of both statistics in one line (collect's summary, `stability`).
    public var description: String {
        func text(_ a: Agreement) -> String {
            String(format: "Spearman %.3f, Kendall τ %.3f, median relative difference %.1f %%", a.spearman, a.kendall, 100 * a.medianRelativeDifference)
        }
        return "wall time \(text(wall)); "
            + (cpu.map { "thread CPU time \(text($0))" } ?? "thread CPU time absent (not stored for every architecture)")
    }
}
