import DeviceModel
import Foundation
import SpaceCore
import Statistics

/// Whether an event could be opened on this host, decided once per session.
public struct EventStatus: Equatable, Sendable {
    public var name: String
    public var encoding: String
    public var supported: Bool
    /// "user+kernel" or "user" when supported.
    public var privilege: String?
    /// Why the event cannot be counted.
    public var reason: String?

    public init(name: String, encoding: String, supported: Bool, privilege: String? = nil, reason: String? = nil) {
        self.name = name
        self.encoding = encoding
        self.supported = supported
        self.privilege = privilege
        self.reason = reason
    }
}

/// Energy per inference over one window, or why there is none.
public enum EnergyOutcome: Equatable, Sendable {
    case measured(joulesPerInference: Double, source: String, domains: [String], windowMs: Double, passes: Int)
    case absent(reason: String)
}

/// One counter over one round's counting window, or why it has no value.
public enum CounterWindow: Equatable, Sendable {
    /// The scaled count over `passes` forward passes.
    case counted(total: Double, passes: Int, timeEnabledNs: UInt64, timeRunningNs: UInt64, scaled: Bool)
    case absent(reason: String)
}

/// What a shared host took from the measuring thread over one round's timed window, or why
/// the kernel does not say.
public struct HostNoise: Equatable, Sendable {
    /// Steal time (ms) the kernel counted on the CPUs the thread may run on, summed over them
    /// (`/proc/stat`, in ticks of USER_HZ, usually 10 ms): time the hypervisor ran something else.
    public var stealMs: Double?
    public var stealAbsentReason: String?
    /// Times the kernel preempted the measuring thread (`nonvoluntary_ctxt_switches`).
    public var involuntarySwitches: Int?
    public var switchesAbsentReason: String?

    public init(stealMs: Double?, stealAbsentReason: String?, involuntarySwitches: Int?, switchesAbsentReason: String?) {
        (self.stealMs, self.stealAbsentReason) = (stealMs, stealMs == nil ? stealAbsentReason ?? "not read" : nil)
        (self.involuntarySwitches, self.switchesAbsentReason) = (involuntarySwitches, involuntarySwitches == nil ? switchesAbsentReason ?? "not read" : nil)
    }

    /// Neither was read, for `reason`.
    public static func absent(_ reason: String) -> HostNoise {
        HostNoise(stealMs: nil, stealAbsentReason: reason, involuntarySwitches: nil, switchesAbsentReason: reason)
    }
}

/// What one round measured of one architecture: the profiler's whole hand-over to a sink.
public struct RoundMeasurement: Equatable, Sendable {
    /// The canonical architecture string and its benchmark-table index (nil outside the table).
    public var architecture: String
    public var index: Int?
    /// "reference", "listed" or "sample".
    public var role: String
    /// 1 for the first visit of the plan, 2 for the second, …
    public var round: Int
    /// The timed repetitions of the kept attempt, in milliseconds of wall time.
    public var repetitionsMs: [Double]
    /// The measuring thread's CPU time in each repetition (ms; empty where not measured).
    public var cpuRepetitionsMs: [Double]
    public var attempts: Int
    public var unstable: Bool
    /// Every requested event, counted or absent with the reason.
    public var counters: [String: CounterWindow]
    public var energy: EnergyOutcome
    public var noise: HostNoise

    public init(architecture: String, index: Int?, role: String, round: Int, repetitionsMs: [Double], cpuRepetitionsMs: [Double] = [], attempts: Int,
                unstable: Bool, counters: [String: CounterWindow], energy: EnergyOutcome, noise: HostNoise = .absent("not read by this profiler")) {
        self.architecture = architecture
        self.index = index
        self.role = role
        self.round = round
        self.repetitionsMs = repetitionsMs
        self.cpuRepetitionsMs = cpuRepetitionsMs
        self.attempts = attempts
        self.unstable = unstable
        self.counters = counters
        self.energy = energy
        self.noise = noise
    }
}

/// What identifies and describes a collection session.
public struct SessionRequest: Sendable {
    public var device: String
    public var host: HostFingerprint
    public var space: String
    /// Runs with the same key measure the same thing (resume matches on it).
    public var configurationKey: String
    /// The whole configuration, stored as JSON.
    public var configuration: [String: String]
    public var batch: Int
    public var threads: Int
    public var repeats: Int
    public var warmup: Int
    /// The space's network shape as named parameters (empty for a space without any).
    public var networkShape: NetworkShape
    public var events: [String]
    public var energyMode: String
    /// Which clock the device's latency is read from (a resumed session takes the latest run's choice).
    public var latencyClock: LatencyClock
    /// Items of `configurationKey` that are part of what the device is (the batch, the network
    /// shape): all of a device's sessions of one space share them.
    public var identity: [String]

    public init(device: String, host: HostFingerprint, space: String, configurationKey: String, configuration: [String: String],
                batch: Int, threads: Int, repeats: Int, warmup: Int, networkShape: NetworkShape,
                events: [String], energyMode: String, latencyClock: LatencyClock = .wall, identity: [String] = []) {
        self.identity = identity
        self.device = device
        self.host = host
        self.space = space
        self.configurationKey = configurationKey
        self.configuration = configuration
        self.batch = batch
        self.threads = threads
        self.repeats = repeats
        self.warmup = warmup
        self.networkShape = networkShape
        self.events = events
        self.energyMode = energyMode
        self.latencyClock = latencyClock
    }
}

/// A session opened in a sink (a new one, or the one an earlier run of the same configuration left).
public struct MeasurementSession: Equatable, Sendable {
    public var id: Int64
    public var uuid: String
    public var space: String
    /// Rounds stored per architecture string: this session's own, raised to `rounds` for an
    /// architecture complete in another session of the same configuration (merged from elsewhere).
    public var storedRounds: [String: Int]
    /// Event support as the session first recorded it (a resumed run keeps the first decision).
    public var events: [EventStatus]

    public init(id: Int64, uuid: String, space: String, storedRounds: [String: Int], events: [EventStatus]) {
        self.id = id
        self.uuid = uuid
        self.space = space
        self.storedRounds = storedRounds
        self.events = events
    }
}

/// What a session holds of some architectures, for the closing summary.
public struct SessionSummary: Equatable, Sendable {
    public var unstable: Int
    public var coefficientsOfVariation: [Double]
    /// Whether any of them has a measured energy value, and else the first stored reason.
    public var energyMeasured: Bool
    public var energyAbsentReason: String?

    public init(unstable: Int, coefficientsOfVariation: [Double], energyMeasured: Bool, energyAbsentReason: String?) {
        self.unstable = unstable
        self.coefficientsOfVariation = coefficientsOfVariation
        self.energyMeasured = energyMeasured
        self.energyAbsentReason = energyAbsentReason
    }
}

/// Where a collection hands its measurements: the profile store implements it. A sink combines
/// rounds itself (repetitions appended, statistics over all of them, counters and energy summed
/// over their passes), so a profiler only reports what one round measured.
public protocol MeasurementSink {
    /// Opens the session of `request` (resuming one of the same configuration key), records the
    /// event support once, and reports what is stored; `rounds` completes architectures that
    /// another session of the configuration holds fully.
    func openSession(_ request: SessionRequest, events: [EventStatus], rounds: Int) throws -> MeasurementSession

    /// Adds one round, in one transaction. Returns false, storing nothing, when that round is
    /// already stored (another agent on the same sink measured it meanwhile).
    @discardableResult
    func append(_ round: RoundMeasurement, to session: MeasurementSession) throws -> Bool

    /// The device's feature vector of the session's space (its median latencies of
    /// `references`), or nil while a reference is missing.
    func completeFeatures(device: String, space: String, references: [(index: Int, string: String)]) throws -> DeviceFeatures?

    /// Counts over `architectures` of the session.
    func summary(of session: MeasurementSession, architectures: Set<String>) throws -> SessionSummary

    /// The stored median wall and CPU time (ms; CPU nil where absent) of each of `architectures`
    /// that the session holds.
    func medians(of session: MeasurementSession, architectures: [String]) throws -> [String: (wall: Double, cpu: Double?)]

    /// Every stored repetition (wall and CPU time, ms; CPU nil where not recorded) of each of
    /// `architectures` that the session holds.
    func repetitions(of session: MeasurementSession, architectures: [String]) throws -> [String: (wall: [Double], cpu: [Double?])]

    /// Stores the session's repeatability check (replacing an earlier one).
    func record(_ repeatability: Repeatability, for session: MeasurementSession) throws
}
