import CPerfEvent
import Foundation
import Measurements

/// A counter event resolved by libpfm4 into a perf_event_attr.
public struct CounterEvent {
    /// The name as requested (e.g. "cycles").
    public var name: String
    /// libpfm4's fully qualified encoding (e.g. "perf::PERF_COUNT_HW_CPU_CYCLES:u=1:k=1").
    public var encoding: String
    public var attr: perf_event_attr

    /// Events of one PMU are opened as one group: the core PMU (hardware, cache and raw
    /// events), the software PMU, or another PMU by its type number.
    public var pmu: String {
        switch attr.type {
        case UInt32(PERF_TYPE_HARDWARE.rawValue), UInt32(PERF_TYPE_HW_CACHE.rawValue), UInt32(PERF_TYPE_RAW.rawValue): return "cpu"
        case UInt32(PERF_TYPE_SOFTWARE.rawValue): return "software"
        default: return "pmu-\(attr.type)"
        }
    }
}

/// Errors that stop a collection before it measures anything.
public enum ProfilingError: Error, CustomStringConvertible, Equatable {
    case unknownEvent(name: String, reason: String)
    case libpfmUnavailable(String)
    case energyUnavailable(mode: String, reason: String)
    case badArchitectureList(path: String, line: Int, reason: String)
    /// Numbers i/n outside 0 ≤ i < n.
    case badShard(String)
    /// Not of the form i/n.
    case malformedShard(String)
    case badCPUList(String)
    /// ONNX Runtime cannot be started (no Python, no onnxruntime, no worker script).
    case runtimeUnavailable(String)
    /// The ONNX Runtime worker refused a request or died.
    case runtimeFailed(String)
    /// A network of the plan would need more memory than the host has available.
    case tooLargeForHost(architecture: String, neededBytes: Double, availableBytes: Double, setting: String)

    public var description: String {
        switch self {
        case .unknownEvent(let name, let reason):
            return "libpfm4 does not know the event '\(name)' (\(reason)); list events with `perf list` or showevtinfo"
        case .libpfmUnavailable(let reason): return "libpfm4 could not initialise: \(reason)"
        case .energyUnavailable(let mode, let reason):
            return "--energy \(mode) cannot measure on this host: \(reason); use --energy auto to store energy as absent"
        case .badArchitectureList(let path, let line, let reason):
            return "\(path) line \(line): \(reason)"
        case .badShard(let text):
            return "--shard \(text) is out of range; use i/n with 0 ≤ i < n (e.g. 0/4)"
        case .malformedShard(let text):
            return "--shard \(text) is not i/n; use i/n with 0 ≤ i < n (e.g. 0/4)"
        case .badCPUList(let text):
            return "--pin \(text) is not a CPU list this process may use; give e.g. 1 or 0-3,6"
        case let .tooLargeForHost(architecture, needed, available, setting):
            return String(format: "%@ needs about %.1f GiB at %@ and this host has %.1f GiB available; lower --batch or --sequence-length (nothing was measured)",
                          architecture, needed / 1_073_741_824, setting, available / 1_073_741_824)
        case .runtimeUnavailable(let reason):
            return "ONNX Runtime is not available: \(reason); run scripts/install-python-deps (a .venv with onnx and onnxruntime from PyPI) or set MODNAS_PYTHON"
        case .runtimeFailed(let reason): return "the ONNX Runtime worker failed: \(reason)"
        }
    }
}

/// Encodes event names with libpfm4.
public enum EventEncoder {
    /// The events counted by default.
    public static let defaultEvents = ["cycles", "instructions", "cache-misses", "branch-misses",
                                       "task-clock", "page-faults", "context-switches"]

    private static let initialization: Int32 = pfm_initialize()

    /// Encodes `names` for user and kernel level (the opener drops to user level if refused).
    public static func encode(_ names: [String]) throws -> [CounterEvent] {
        guard initialization == PFM_SUCCESS else {
            throw ProfilingError.libpfmUnavailable(String(cString: pfm_strerror(initialization)))
        }
        return try names.map { name in
            var attr = perf_event_attr()
            var fstr: UnsafeMutablePointer<CChar>?
            let code = withUnsafeMutablePointer(to: &attr) { attrPointer in
                withUnsafeMutablePointer(to: &fstr) { fstrPointer in
                    var arg = pfm_perf_encode_arg_t()
                    arg.attr = attrPointer
                    arg.fstr = fstrPointer
                    arg.size = MemoryLayout<pfm_perf_encode_arg_t>.size
                    return pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg)
                }
            }
            guard code == PFM_SUCCESS else {
                throw ProfilingError.unknownEvent(name: name, reason: String(cString: pfm_strerror(code)))
            }
            defer { free(fstr) }
            return CounterEvent(name: name, encoding: fstr.map { String(cString: $0) } ?? name, attr: attr)
        }
    }
}

/// One counter's value over a counting window.
public struct CounterReading: Equatable, Sendable {
    /// The count scaled by time_enabled / time_running; nil when the event never ran.
    public var value: Double?
    public var raw: UInt64
    public var timeEnabledNs: UInt64
    public var timeRunningNs: UInt64
    /// Whether the count was extrapolated because the group was multiplexed.
    public var scaled: Bool { value != nil && timeRunningNs < timeEnabledNs }

    /// Parses a PERF_FORMAT_GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING read:
    /// nr, time_enabled, time_running, value[nr]. Returns nil for a short buffer.
    public static func parseGroup(_ words: [UInt64], members: Int) -> [CounterReading]? {
        guard words.count >= 3, Int(words[0]) == members, words.count >= 3 + members else { return nil }
        let enabled = words[1], running = words[2]
        return (0..<members).map { k in
            let raw = words[3 + k]
            let value: Double? = running == 0 ? nil
                : (running < enabled ? Double(raw) * Double(enabled) / Double(running) : Double(raw))
            return CounterReading(value: value, raw: raw, timeEnabledNs: enabled, timeRunningNs: running)
        }
    }
}

/// The counter groups of one collection session, opened once for the calling thread (or the
/// process `pid`, a runtime's worker) and
/// reset, enabled, disabled and read around each architecture's timed passes.
public final class CounterGroups {
    public private(set) var statuses: [EventStatus] = []
    private var groups: [(fds: [Int32], names: [String])] = []
    private let kernel: KernelInterface
    private let pid: Int32

    /// Opens `events` grouped per PMU; events the host refuses are recorded as unsupported.
    public init(events: [CounterEvent], kernel: KernelInterface, pid: Int32 = 0) {
        self.kernel = kernel
        self.pid = pid
        var order: [String] = []
        var byPMU: [String: [CounterEvent]] = [:]
        for e in events {
            if byPMU[e.pmu] == nil { order.append(e.pmu) }
            byPMU[e.pmu, default: []].append(e)
        }
        for pmu in order {
            var fds: [Int32] = [], names: [String] = []
            for event in byPMU[pmu]! {
                switch open(event, leader: fds.first) {
                case .success(let (fd, privilege)):
                    fds.append(fd)
                    names.append(event.name)
                    statuses.append(EventStatus(name: event.name, encoding: event.encoding, supported: true, privilege: privilege))
                case .failure(let error):
                    statuses.append(EventStatus(name: event.name, encoding: event.encoding, supported: false,
                                                reason: Self.explain(error)))
                }
            }
            if !fds.isEmpty { groups.append((fds, names)) }
        }
    }

    deinit { for g in groups { for fd in g.fds { kernel.close(fd) } } }

    /// Opens one event, first at user and kernel level, then at user level when refused.
    private func open(_ event: CounterEvent, leader: Int32?) -> Result<(Int32, String), KernelCallError> {
        var attr = event.attr
        attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
        attr.disabled = leader == nil ? 1 : 0
        attr.exclude_hv = 1
        attr.read_format = UInt64(PERF_FORMAT_GROUP.rawValue | PERF_FORMAT_TOTAL_TIME_ENABLED.rawValue
                                  | PERF_FORMAT_TOTAL_TIME_RUNNING.rawValue)
        for (excludeKernel, privilege) in [(UInt64(0), "user+kernel"), (UInt64(1), "user")] {
            attr.exclude_kernel = excludeKernel
            do {
                return .success((try kernel.perfEventOpen(attr, pid: pid, cpu: -1, groupFD: leader ?? -1), privilege))
            } catch let error as KernelCallError where excludeKernel == 0 && (error.code == EACCES || error.code == EPERM) {
                continue
            } catch let error as KernelCallError {
                return .failure(error)
            } catch {
                return .failure(KernelCallError(call: "perf_event_open", code: EINVAL))
            }
        }
        return .failure(KernelCallError(call: "perf_event_open", code: EACCES))
    }

    /// A reason a user can act on, with the errno.
    static func explain(_ error: KernelCallError) -> String {
        let hint: String
        switch error.code {
        case ENOENT, EOPNOTSUPP, ENODEV: hint = "this host has no PMU support for the event (usual in virtual machines)"
        case EACCES, EPERM: hint = "not permitted by kernel.perf_event_paranoid"
        case EINVAL: hint = "the kernel rejected the event's encoding"
        case ENOSPC, EBUSY: hint = "no free hardware counter"
        default: hint = "the kernel refused the event"
        }
        return "\(hint): \(error)"
    }

    /// Whether any event is being counted.
    public var isCounting: Bool { !groups.isEmpty }

    /// Resets and enables every group.
    public func start() throws {
        for g in groups {
            try kernel.control(g.fds[0], .reset, group: true)
            try kernel.control(g.fds[0], .enable, group: true)
        }
    }

    /// Disables every group and reads it; returns readings by event name.
    public func stop() throws -> [String: CounterReading] {
        var readings: [String: CounterReading] = [:]
        for g in groups { try kernel.control(g.fds[0], .disable, group: true) }
        for g in groups {
            let words = try kernel.readWords(g.fds[0], count: 3 + g.fds.count)
            guard let values = CounterReading.parseGroup(words, members: g.fds.count) else {
                throw KernelCallError(call: "read(perf group)", code: EIO)
            }
            for (name, v) in zip(g.names, values) { readings[name] = v }
        }
        return readings
    }
}
