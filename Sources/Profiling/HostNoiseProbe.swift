import Foundation
import Measurements
#if canImport(Glibc)
import Glibc
#endif

/// Reads what a shared host takes from the measuring thread: the steal time of the CPUs it may
/// run on (`/proc/stat`, where a hypervisor reports time it ran something else) and the thread's
/// involuntary context switches (the status file of the thread that runs the network: the
/// calling thread's, or a runtime worker's).
public struct HostNoiseProbe {
    /// One reading of both counters, or why each cannot be read.
    public struct Reading: Equatable, Sendable {
        public var stealTicks: UInt64?
        public var stealReason: String?
        public var switches: Int?
        public var switchesReason: String?
    }

    let kernel: KernelInterface
    let cpus: [Int]
    let statusPath: String
    /// Milliseconds per /proc/stat tick (1000 / USER_HZ).
    let tickMs: Double

    public init(kernel: KernelInterface, cpus: [Int], statusPath: String = "/proc/thread-self/status") {
        self.kernel = kernel
        self.cpus = cpus
        self.statusPath = statusPath
        let hz = sysconf(Int32(_SC_CLK_TCK))
        tickMs = 1000 / Double(hz > 0 ? hz : 100)
    }

    public func read() -> Reading {
        var r = Reading()
        do { (r.stealTicks, r.stealReason) = Self.steal(in: try kernel.readFile("/proc/stat"), cpus: cpus) } catch {
            r.stealReason = "cannot read /proc/stat: \(error)"
        }
        do { (r.switches, r.switchesReason) = Self.involuntarySwitches(in: try kernel.readFile(statusPath)) } catch {
            r.switchesReason = "cannot read \(statusPath): \(error)"
        }
        return r
    }

    /// What happened between two readings.
    public func window(from a: Reading, to b: Reading) -> HostNoise {
        let steal = a.stealTicks.flatMap { x in b.stealTicks.map { y in Double(y >= x ? y - x : 0) * tickMs } }
        let switches = a.switches.flatMap { x in b.switches.map { y in max(y - x, 0) } }
        return HostNoise(stealMs: steal, stealAbsentReason: a.stealReason ?? b.stealReason,
                         involuntarySwitches: switches, switchesAbsentReason: a.switchesReason ?? b.switchesReason)
    }

    /// The steal ticks summed over `cpus` from the `cpuN` lines of /proc/stat (the 8th value after
    /// the name), or why there are none.
    static func steal(in stat: String, cpus: [Int]) -> (UInt64?, String?) {
        var byCPU: [Int: UInt64] = [:]
        for line in stat.split(separator: "\n") where line.hasPrefix("cpu") {
            let fields = line.split(separator: " ")
            guard let cpu = Int(fields[0].dropFirst(3)) else { continue }
            guard fields.count > 8, let steal = UInt64(fields[8]) else {
                return (nil, "this kernel's /proc/stat has no steal column")
            }
            byCPU[cpu] = steal
        }
        guard !cpus.isEmpty, cpus.allSatisfy({ byCPU[$0] != nil }) else {
            return (nil, "/proc/stat lists no line for some of CPUs \(cpus.map(String.init).joined(separator: ","))")
        }
        return (cpus.reduce(0) { $0 + byCPU[$1]! }, nil)
    }

    /// `nonvoluntary_ctxt_switches` of a task's status file, or why it has none.
    static func involuntarySwitches(in status: String) -> (Int?, String?) {
        for line in status.split(separator: "\n") where line.hasPrefix("nonvoluntary_ctxt_switches:") {
            if let n = Int(line.dropFirst("nonvoluntary_ctxt_switches:".count).trimmingCharacters(in: .whitespaces)) { return (n, nil) }
        }
        return (nil, "the task status file has no nonvoluntary_ctxt_switches line")
    }
}
