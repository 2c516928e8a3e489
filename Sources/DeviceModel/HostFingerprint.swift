/// What a measuring host is and how it was set up, stored with every measured session.
public struct HostFingerprint: Codable, Equatable, Sendable {
    public var hostname: String
    public var cpuModel: String
    /// The CPU feature flags of /proc/cpuinfo.
    public var cpuFlags: [String]
    public var logicalCPUs: Int
    /// CPUs this process may run on (after pinning).
    public var allowedCPUs: [Int]
    /// cpufreq governor of the first allowed CPU, nil where not readable (see `unreadable`).
    public var frequencyGovernor: String?
    /// "on"/"off" where readable.
    public var turbo: String?
    public var loadAverage: [Double]
    public var memoryBytes: Int?
    public var kernel: String
    /// e.g. "kvm (hypervisor flag; DMI: Google Compute Engine)", or "none detected".
    public var virtualization: String
    public var openBLASCore: String
    public var openBLASCoreOrigin: String
    public var openBLASThreads: Int
    /// Facts that could not be read, with the reason.
    public var unreadable: [String: String]
    /// Warnings about a noisy set-up (the collection goes on).
    public var warnings: [String]

    public init(hostname: String, cpuModel: String, cpuFlags: [String], logicalCPUs: Int, allowedCPUs: [Int],
                frequencyGovernor: String?, turbo: String?, loadAverage: [Double], memoryBytes: Int?, kernel: String,
                virtualization: String, openBLASCore: String, openBLASCoreOrigin: String, openBLASThreads: Int,
                unreadable: [String: String], warnings: [String]) {
        self.hostname = hostname
        self.cpuModel = cpuModel
        self.cpuFlags = cpuFlags
        self.logicalCPUs = logicalCPUs
        self.allowedCPUs = allowedCPUs
        self.frequencyGovernor = frequencyGovernor
        self.turbo = turbo
        self.loadAverage = loadAverage
        self.memoryBytes = memoryBytes
        self.kernel = kernel
        self.virtualization = virtualization
        self.openBLASCore = openBLASCore
        self.openBLASCoreOrigin = openBLASCoreOrigin
        self.openBLASThreads = openBLASThreads
        self.unreadable = unreadable
        self.warnings = warnings
    }
}
