/// Why a measurement has no CPU-time statistics.
public enum CPUTime {
    public static let benchmarkReason = "a benchmark table holds wall-clock latency only"
    public static let olderSchemaReason = "stored before CPU time was recorded per repetition"
    public static let partialReason = "a round of this architecture has no CPU time (stored before CPU time was recorded)"
}

/// Why a measurement has no steal time or involuntary context switches.
public enum HostNoiseAbsence {
    public static let benchmarkReason = "a benchmark table holds latency only"
    public static let olderSchemaReason = "stored before steal time and context switches were recorded"
}
