import COpenBLAS
import Foundation

/// Opt-in accounting of the time spent in sgemm by one thread (for "share of time in sgemm"
/// figures): `start()` on the measuring thread, `stop()` after; other threads are not counted.
public enum SGEMMTimer {
    nonisolated(unsafe) static var owner: pthread_t?
    public nonisolated(unsafe) private(set) static var seconds = 0.0
    public nonisolated(unsafe) private(set) static var calls = 0

    public static var isOn: Bool { owner != nil }

    public static func start() {
        (seconds, calls) = (0, 0)
        owner = pthread_self()
    }

    public static func stop() { owner = nil }

    /// Whether the calling thread is being measured.
    @inline(__always) static var measuresThisThread: Bool {
        guard let owner else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }

    static func record(since start: DispatchTime) {
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        calls += 1
    }
}

/// Row-major single-precision matrix product through OpenBLAS `cblas_sgemm`:
/// `C = alpha · op(A) · op(B) + beta · C`, with op(A) of shape m×k and op(B) k×n.
@inline(__always)
func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let start = SGEMMTimer.measuresThisThread ? DispatchTime.now() : nil
    defer { if let start { SGEMMTimer.record(since: start) } }
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// Row-major single-precision matrix–vector product through OpenBLAS `cblas_sgemv`:
/// `y = A · x + beta · y`, A of shape m×n.
@inline(__always)
func sgemv(m: Int, n: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
           beta: Float = 0, y: UnsafeMutablePointer<Float>) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(lda), x, 1, beta, y, 1)
}

/// Runtime settings and queries of the OpenBLAS library the engine links.
public enum OpenBLAS {
    /// The kernel core OpenBLAS selected at load time (`openblas_get_corename`), e.g. "SkylakeX".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The library's build configuration string (`openblas_get_config`).
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    /// Sets the number of threads OpenBLAS uses (`openblas_set_num_threads`).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses (`openblas_get_num_threads`).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
