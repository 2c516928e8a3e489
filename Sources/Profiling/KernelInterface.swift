import CPerfEvent
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed kernel call: names the call and its errno.
public struct KernelCallError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    /// The errno's symbolic name (e.g. "ENOENT").
    public var errnoName: String {
        let names: [Int32: String] = [EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
                                      EBADF: "EBADF", EACCES: "EACCES", EBUSY: "EBUSY", ENODEV: "ENODEV",
                                      EINVAL: "EINVAL", EMFILE: "EMFILE", ENOSPC: "ENOSPC", E2BIG: "E2BIG",
                                      EOPNOTSUPP: "EOPNOTSUPP", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR"]
        return names[code] ?? "errno \(code)"
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (\(errnoName))" }
}

/// Whether an ioctl acts on a whole counter group.
public enum PerfEventControl: Sendable { case enable, disable, reset }

/// The profiler's one door to the kernel. `LinuxKernel` is the real one; tests substitute fakes
/// so that counter and energy logic run without a PMU or RAPL.
public protocol KernelInterface: AnyObject {
    /// perf_event_open(2) for the calling thread (pid 0) or system-wide on `cpu` (pid −1).
    func perfEventOpen(_ attr: perf_event_attr, pid: Int32, cpu: Int32, groupFD: Int32) throws -> Int32
    /// PERF_EVENT_IOC_ENABLE/DISABLE/RESET, on the whole group when `group` is true.
    func control(_ fd: Int32, _ request: PerfEventControl, group: Bool) throws
    /// Reads `words` 64-bit words from a perf event descriptor.
    func readWords(_ fd: Int32, count words: Int) throws -> [UInt64]
    func close(_ fd: Int32)
    /// The text of a (sysfs or proc) file.
    func readFile(_ path: String) throws -> String
    /// Entry names of a directory.
    func listDirectory(_ path: String) throws -> [String]
    /// CPUs the calling thread may run on (sched_getaffinity).
    func allowedCPUs() throws -> [Int]
    /// Restricts the calling thread to `cpus` (sched_setaffinity).
    func pin(to cpus: [Int]) throws
}

/// The real kernel: each call retries EINTR and turns −1 into a `KernelCallError` naming the call.
public final class LinuxKernel: KernelInterface {
    public init() {}

    /// Runs a call returning −1 on failure, retrying on EINTR.
    @discardableResult
    static func check(_ name: String, _ body: () -> Int) throws -> Int {
        while true {
            let r = body()
            if r != -1 { return r }
            if errno == EINTR { continue }
            throw KernelCallError(call: name, code: errno)
        }
    }

    public func perfEventOpen(_ attr: perf_event_attr, pid: Int32, cpu: Int32, groupFD: Int32) throws -> Int32 {
        var a = attr
        return Int32(try Self.check("perf_event_open") {
            Int(modnas_perf_event_open(&a, pid, cpu, groupFD, UInt(PERF_FLAG_FD_CLOEXEC)))
        })
    }

    public func control(_ fd: Int32, _ request: PerfEventControl, group: Bool) throws {
        let flags: UInt = group ? 1 : 0   // PERF_IOC_FLAG_GROUP
        switch request {
        case .enable: try Self.check("ioctl(PERF_EVENT_IOC_ENABLE)") { Int(modnas_perf_event_enable(fd, flags)) }
        case .disable: try Self.check("ioctl(PERF_EVENT_IOC_DISABLE)") { Int(modnas_perf_event_disable(fd, flags)) }
        case .reset: try Self.check("ioctl(PERF_EVENT_IOC_RESET)") { Int(modnas_perf_event_reset(fd, flags)) }
        }
    }

    public func readWords(_ fd: Int32, count words: Int) throws -> [UInt64] {
        var buffer = [UInt64](repeating: 0, count: words)
        let n = try buffer.withUnsafeMutableBytes { raw in
            try Self.check("read(perf event)") { Glibc.read(fd, raw.baseAddress, raw.count) }
        }
        return Array(buffer.prefix(n / 8))
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func readFile(_ path: String) throws -> String {
        let fd = Int32(try Self.check("open(\(path))") { Int(open(path, O_RDONLY | O_CLOEXEC)) })
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                try Self.check("read(\(path))") { Glibc.read(fd, raw.baseAddress, raw.count) }
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw KernelCallError(call: "opendir(\(path))", code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func allowedCPUs() throws -> [Int] {
        var mask = [UInt8](repeating: 0, count: 128)
        let n = try Self.check("sched_getaffinity") { Int(modnas_get_affinity(&mask, mask.count)) }
        return (0..<(n * 8)).filter { mask[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
    }

    public func pin(to cpus: [Int]) throws {
        var mask = [UInt8](repeating: 0, count: 128)
        for cpu in cpus where cpu >= 0 && cpu < mask.count * 8 { mask[cpu / 8] |= 1 << UInt8(cpu % 8) }
        try Self.check("sched_setaffinity") { Int(modnas_set_affinity(mask, mask.count)) }
    }
}
