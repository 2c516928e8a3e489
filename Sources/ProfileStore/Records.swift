import DeviceModel
import Foundation
import GRDB

/// A device: a profiled host or a benchmark device.
public struct DeviceRecord: Codable, FetchableRecord, MutablePersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "device"
    public var id: Int64?
    public var name: String
    public var source: DataSource
    /// The latest host fingerprint (JSON), nil for benchmark devices.
    public var fingerprint: String?
    public var createdAt: Date

    public enum Columns { static let name = Column("name") }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One measurement configuration on one device.
public struct SessionRecord: Codable, FetchableRecord, MutablePersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "session"
    public var id: Int64?
    /// Globally unique: merges match sessions by it.
    public var uuid: String
    public var deviceId: Int64
    public var kind: DataSource
    public var space: String
    /// Identifies configurations that measure the same thing (resume matches on it).
    public var configKey: String
    /// The whole configuration as JSON.
    public var configuration: String
    public var batch: Int?
    public var threads: Int?
    public var repeats: Int?
    public var warmup: Int?
    /// The network shape as `name=value` items (`NetworkShape`'s text; nil for a space without parameters).
    public var networkShape: String?
    /// Requested counter events (JSON array).
    public var events: String?
    public var energyMode: String?
    /// Host fingerprint when the session started (JSON).
    public var host: String?
    public var startedAt: Date
    /// Which clock the device's latency is read from.
    public var latencyClock: LatencyClock

    public init(id: Int64? = nil, uuid: String, deviceId: Int64, kind: DataSource, space: String, configKey: String, configuration: String, batch: Int? = nil, threads: Int? = nil, repeats: Int? = nil, warmup: Int? = nil, networkShape: String? = nil, events: String? = nil, energyMode: String? = nil, host: String? = nil, startedAt: Date, latencyClock: LatencyClock = .wall) {
        self.id = id
        self.uuid = uuid
        self.deviceId = deviceId
        self.kind = kind
        self.space = space
        self.configKey = configKey
        self.configuration = configuration
        self.batch = batch
        self.threads = threads
        self.repeats = repeats
        self.warmup = warmup
        self.networkShape = networkShape
        self.events = events
        self.energyMode = energyMode
        self.host = host
        self.startedAt = startedAt
        self.latencyClock = latencyClock
    }

    public enum Columns {
        static let uuid = Column("uuid"), deviceId = Column("deviceId"), configKey = Column("configKey")
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Latency of one architecture in one session, with every repetition.
public struct MeasurementRecord: Codable, FetchableRecord, MutablePersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "measurement"
    public var id: Int64?
    public var sessionId: Int64
    public var architectureId: Int64
    /// "reference", "sample", "listed" (from --archs) or "table" (benchmark import).
    public var role: String
    public var label: DataSource
    public var repetitionCount: Int?
    public var medianMs: Double
    public var meanMs: Double?
    public var p10Ms: Double?
    public var p90Ms: Double?
    public var madMs: Double?
    public var cv: Double?
    public var minMs: Double?
    public var attempts: Int
    /// Visits of the plan that measured this architecture (repetitions are spread over them).
    public var rounds: Int
    public var unstable: Bool
    public var measuredAt: Date?
    /// Statistics of the measuring thread's CPU time per repetition (ms), or nil with
    /// `cpuAbsentReason` (benchmark values, rows stored before CPU time was recorded).
    public var cpuMedianMs: Double?
    public var cpuMeanMs: Double?
    public var cpuP10Ms: Double?
    public var cpuP90Ms: Double?
    public var cpuCv: Double?
    public var cpuAbsentReason: String?
    /// Steal time (ms, summed over the CPUs the thread may use) and the thread's involuntary
    /// context switches over the timed windows of every round, or nil with the reason.
    public var stealMs: Double?
    public var stealAbsentReason: String?
    public var involuntarySwitches: Int?
    public var switchesAbsentReason: String?

    public init(id: Int64? = nil, sessionId: Int64, architectureId: Int64, role: String, label: DataSource, repetitionCount: Int? = nil, medianMs: Double, meanMs: Double? = nil, p10Ms: Double? = nil, p90Ms: Double? = nil, madMs: Double? = nil, cv: Double? = nil, minMs: Double? = nil, attempts: Int, rounds: Int = 1, unstable: Bool, measuredAt: Date? = nil, cpuAbsentReason: String? = CPUTime.benchmarkReason,
                stealAbsentReason: String? = HostNoiseAbsence.benchmarkReason, switchesAbsentReason: String? = HostNoiseAbsence.benchmarkReason) {
        self.id = id
        self.sessionId = sessionId
        self.architectureId = architectureId
        self.role = role
        self.label = label
        self.repetitionCount = repetitionCount
        self.medianMs = medianMs
        self.meanMs = meanMs
        self.p10Ms = p10Ms
        self.p90Ms = p90Ms
        self.madMs = madMs
        self.cv = cv
        self.minMs = minMs
        self.attempts = attempts
        self.rounds = rounds
        self.unstable = unstable
        self.measuredAt = measuredAt
        self.cpuAbsentReason = cpuAbsentReason
        self.stealAbsentReason = stealAbsentReason
        self.switchesAbsentReason = switchesAbsentReason
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A counter's value for one measurement, or its absence with the reason.
public struct CounterValueRecord: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "counterValue"
    public var measurementId: Int64
    public var event: String
    /// Count per inference, scaled for multiplexing; nil when absent.
    public var perInference: Double?
    /// Scaled count over the whole counting window.
    public var total: Double?
    /// Forward passes the counting window held.
    public var passes: Int?
    public var timeEnabledNs: Int64?
    public var timeRunningNs: Int64?
    public var scaled: Bool?
    public var absentReason: String?
    public init(measurementId: Int64, event: String, perInference: Double? = nil, total: Double? = nil, passes: Int? = nil, timeEnabledNs: Int64? = nil, timeRunningNs: Int64? = nil, scaled: Bool? = nil, absentReason: String? = nil) {
        self.measurementId = measurementId
        self.event = event
        self.perInference = perInference
        self.total = total
        self.passes = passes
        self.timeEnabledNs = timeEnabledNs
        self.timeRunningNs = timeRunningNs
        self.scaled = scaled
        self.absentReason = absentReason
    }
}

/// Energy per inference for one measurement, or its absence with the reason.
public struct EnergyRecord: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "energy"
    public var measurementId: Int64
    public var joulesPerInference: Double?
    /// "rapl-powercap", "perf-power" or "none".
    public var source: String
    /// The non-overlapping domains added up (JSON array).
    public var domains: String?
    public var windowMs: Double?
    public var passes: Int?
    public var absentReason: String?
    public init(measurementId: Int64, joulesPerInference: Double? = nil, source: String, domains: String? = nil, windowMs: Double? = nil, passes: Int? = nil, absentReason: String? = nil) {
        self.measurementId = measurementId
        self.joulesPerInference = joulesPerInference
        self.source = source
        self.domains = domains
        self.windowMs = windowMs
        self.passes = passes
        self.absentReason = absentReason
    }
}

/// Whether a requested counter event could be counted in a session (recorded once per session).
public struct SessionEventRecord: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "sessionEvent"
    public var sessionId: Int64
    public var event: String
    public var supported: Bool
    /// "user+kernel" or "user" for supported events.
    public var privilege: String?
    public var reason: String?
    /// libpfm4's canonical encoding of the name.
    public var encoding: String?
    public init(sessionId: Int64, event: String, supported: Bool, privilege: String? = nil, reason: String? = nil, encoding: String? = nil) {
        self.sessionId = sessionId
        self.event = event
        self.supported = supported
        self.privilege = privilege
        self.reason = reason
        self.encoding = encoding
    }
}

/// A measurement with its repetitions, counters and energy, written in one transaction.
public struct ArchitectureResult: Sendable {
    public var architectureString: String
    public var architectureIndex: Int?
    public var measurement: MeasurementRecord
    /// Every timed repetition in milliseconds, in order (empty for benchmark values).
    public var repetitionsMs: [Double]
    /// The thread's CPU time of each repetition (nil where not recorded).
    public var cpuRepetitionsMs: [Double?]
    public var counters: [CounterValueRecord]
    public var energy: EnergyRecord?

    public init(architectureString: String, architectureIndex: Int?, measurement: MeasurementRecord, repetitionsMs: [Double] = [],
                cpuRepetitionsMs: [Double?]? = nil, counters: [CounterValueRecord], energy: EnergyRecord?) {
        self.architectureString = architectureString
        self.architectureIndex = architectureIndex
        self.measurement = measurement
        self.repetitionsMs = repetitionsMs
        self.cpuRepetitionsMs = cpuRepetitionsMs ?? repetitionsMs.map { _ in nil }
        self.counters = counters
        self.energy = energy
    }
}

/// The rows stored for one architecture in one session.
public struct StoredMeasurement: Sendable {
    public var measurement: MeasurementRecord
    public var repetitionsMs: [Double]
    public var cpuRepetitionsMs: [Double?]
    public var counters: [CounterValueRecord]
    public var energy: EnergyRecord?
}
