/// Which clock a measured latency is read from. Both are stored for every repetition; a
/// session's choice decides which one its device's features, predictors and fronts use.
public enum LatencyClock: String, Codable, CaseIterable, Sendable {
    /// Wall time per inference: what a user of a dedicated device waits.
    case wall
    /// The measuring thread's CPU time per inference: leaves out the time a shared or
    /// virtualised host gave to other work (steal, other processes), so it repeats better there.
    case cpu

    /// The statistic a device's latencies hold, for labels.
    public var label: String {
        switch self {
        case .wall: "median wall time"
        case .cpu: "median thread CPU time"
        }
    }
}
