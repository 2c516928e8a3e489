#if canImport(Glibc)
import Glibc
#endif

/// Monotonic wall-clock timing (`clock_gettime(CLOCK_MONOTONIC)`).
public enum Stopwatch {
    /// Nanoseconds on the monotonic clock.
    @inline(__always)
    public static func now() -> UInt64 { nanoseconds(CLOCK_MONOTONIC) }

    /// Nanoseconds of CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`): time the
    /// host gave to other work (a VM's steal, other processes) is not in it.
    @inline(__always)
    public static func threadCPUNow() -> UInt64 { nanoseconds(CLOCK_THREAD_CPUTIME_ID) }

    @inline(__always)
    static func nanoseconds(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Milliseconds taken by each of `repeats` calls of `body`, after `warmup` untimed calls.
    public static func milliseconds(repeats: Int, warmup: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return wallAndCPUMilliseconds(repeats: repeats, body).wall
    }

    /// The wall and the calling thread's CPU time (ms) of each of `repeats` calls of `body`; the
    /// CPU clock is read outside the wall window, so the wall time holds only the call.
    public static func wallAndCPUMilliseconds(repeats: Int, _ body: () -> Void) -> (wall: [Double], cpu: [Double]) {
        var wall: [Double] = [], cpu: [Double] = []
        wall.reserveCapacity(repeats)
        cpu.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let c0 = threadCPUNow(), t0 = now()
            body()
            let t1 = now(), c1 = threadCPUNow()
            wall.append(Double(t1 - t0) / 1e6)
            cpu.append(Double(c1 - c0) / 1e6)
        }
        return (wall, cpu)
    }
}
