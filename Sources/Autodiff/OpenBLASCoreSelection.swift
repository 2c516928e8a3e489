import Foundation

/// Keeps the tools from silently running an OpenBLAS kernel below what the CPU supports.
///
/// Debian's OpenBLAS 0.3.21 identifies some recent Xeons as "Prescott" (SSE3 only). OpenBLAS
/// reads `OPENBLAS_CORETYPE` when it is loaded, so the fix is to re-execute the tool with the
/// better core, after a child process has checked that core's sgemm against a reference.
public enum OpenBLASCoreSelection {
    /// Set in a re-executed process: the core this tool selected itself.
    static let autoSelectedVariable = "MODNAS_OPENBLAS_AUTO_CORE"
    /// Set in the self-test child: run the sgemm check and exit.
    static let selfTestVariable = "MODNAS_OPENBLAS_SELFTEST"

    /// How the core in use came to be chosen.
    public enum Origin: String, Codable, Sendable {
        case detected       // OpenBLAS's own detection, judged good enough
        case userSetting    // OPENBLAS_CORETYPE set by the user
        case autoSelected   // chosen by modnas from the CPU flags and self-tested
        case selfTestFailed // a better core failed the self-test; OpenBLAS's detection kept
    }

    /// The core in use and why, for `--version`, `doctor` and host fingerprints.
    public struct Status: Codable, Sendable, Equatable {
        public var core: String
        public var origin: Origin
        /// The best core the CPU flags allow (nil when none is known better than generic).
        public var supportedCore: String?

        public var summary: String {
            switch origin {
            case .detected: return "\(core) (detected by OpenBLAS)"
            case .userSetting: return "\(core) (OPENBLAS_CORETYPE set by the user)"
            case .autoSelected: return "\(core) (selected by modnas from the CPU flags; OpenBLAS detected a weaker core)"
            case .selfTestFailed: return "\(core) (detected; \(supportedCore ?? "?") failed the sgemm self-test)"
            }
        }
    }

    /// What to do at start-up.
    public enum Decision: Equatable, Sendable {
        case keep(Origin)
        case tryCore(String)
    }

    /// The strength of an OpenBLAS x86-64 core name by vector ISA: 1 SSE, 2 AVX, 3 AVX2, 4 AVX-512;
    /// nil for names this table does not know (those are left alone).
    static func strength(of core: String) -> Int? {
        switch core.lowercased() {
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "barcelona", "bobcat", "katmai",
             "coppermine", "northwood", "opteron", "opteron_sse3":
            return 1
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 2
        case "haswell", "zen", "excavator": return 3
        case "skylakex", "cooperlake", "sapphirerapids": return 4
        default: return nil
        }
    }

    /// The best OpenBLAS core the CPU flags (from /proc/cpuinfo) support, if any is above SSE.
    public static func supportedCore(cpuFlags: Set<String>) -> String? {
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        if avx512.allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        if cpuFlags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// Pure decision: respect a user setting, never loop, and upgrade only a known weaker core.
    public static func decide(userSetting: String?, alreadyAutoSelected: Bool, detected: String,
                              cpuFlags: Set<String>) -> Decision {
        if alreadyAutoSelected { return .keep(.autoSelected) }
        if let userSetting, !userSetting.isEmpty { return .keep(.userSetting) }
        guard let best = supportedCore(cpuFlags: cpuFlags),
              let have = strength(of: detected), let want = strength(of: best), want > have
        else { return .keep(.detected) }
        return .tryCore(best)
    }

    /// The flags of the first CPU in /proc/cpuinfo (empty where not readable, e.g. non-x86).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    nonisolated(unsafe) private static var decidedStatus: Status?

    /// The core in use and its origin (computed once per process).
    public static var status: Status {
        if let decidedStatus { return decidedStatus }
        let env = ProcessInfo.processInfo.environment
        let flags = cpuFlags()
        let decision = decide(userSetting: env["OPENBLAS_CORETYPE"], alreadyAutoSelected: env[autoSelectedVariable] != nil,
                              detected: OpenBLAS.coreName, cpuFlags: flags)
        let origin: Origin
        if case .keep(let o) = decision { origin = o } else { origin = .detected }
        let s = Status(core: OpenBLAS.coreName, origin: origin, supportedCore: supportedCore(cpuFlags: flags))
        decidedStatus = s
        return s
    }

    /// Call first in every executable: answers a self-test request, or re-executes the tool
    /// with a better core when OpenBLAS picked a weaker one and that core passes the self-test.
    public static func ensureBestCore() {
        let env = ProcessInfo.processInfo.environment
        if env[selfTestVariable] != nil {
            let wanted = env["OPENBLAS_CORETYPE"] ?? ""
            let ok = OpenBLAS.coreName.lowercased() == wanted.lowercased() && sgemmSelfTest()
            exit(ok ? 0 : 1)
        }
        let decision = decide(userSetting: env["OPENBLAS_CORETYPE"], alreadyAutoSelected: env[autoSelectedVariable] != nil,
                              detected: OpenBLAS.coreName, cpuFlags: cpuFlags())
        guard case .tryCore(let core) = decision else { return }
        guard childPassesSelfTest(core: core) else {
            decidedStatus = Status(core: OpenBLAS.coreName, origin: .selfTestFailed, supportedCore: core)
            FileHandle.standardError.write(Data(
                "warning: OpenBLAS detected \(OpenBLAS.coreName); \(core) failed the sgemm self-test, keeping \(OpenBLAS.coreName)\n".utf8))
            return
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(autoSelectedVariable, core, 1)
        let args = CommandLine.arguments
        var cArgs = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArgs)
        // execv returns only on failure: carry on with the detected core.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(autoSelectedVariable)
    }

    /// Runs this executable as a child with the candidate core and the self-test flag.
    private static func childPassesSelfTest(core: String) -> Bool {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = core
        env[selfTestVariable] = "1"
        child.environment = env
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        do { try child.run() } catch { return false }
        child.waitUntilExit()
        return child.terminationStatus == 0
    }

    /// Checks sgemm in all four transpose combinations, at sizes that exercise the kernels' edge
    /// handling, against a Double reference.
    public static func sgemmSelfTest() -> Bool {
        var rng = SeededGenerator(seed: 7)
        for (m, n, k) in [(67, 45, 53), (16, 1024, 144), (5, 3, 200)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor.uniform(shape: ta ? [k, m] : [m, k], low: -1, high: 1, using: &rng)
                let b = Tensor.uniform(shape: tb ? [n, k] : [k, n], low: -1, high: 1, using: &rng)
                let c = matmul(a, b, transposeA: ta, transposeB: tb)
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k {
                            let av = ta ? a.scalars[p * m + i] : a.scalars[i * k + p]
                            let bv = tb ? b.scalars[j * k + p] : b.scalars[p * n + j]
                            s += Double(av) * Double(bv)
                        }
                        if abs(Double(c.scalars[i * n + j]) - s) > 1e-4 * Double(k) { return false }
                    }
                }
            }
        }
        return true
    }
}
