import Foundation
import Autodiff
import Testing

/// ONNX Runtime as the profiler's runtime and as the engine benchmark's yardstick (the Python of
/// `scripts/install-python-deps`).
@Suite(.serialized) struct RuntimeToolTests {
    @Test func collectTimesTheExportedModelsInAWorkerAndCountsItsEvents() throws {
        let dir = try scratch()
        let r = try runTool("modnas-profile", [
            "collect", "--host", "--runtime", "onnxruntime", "--samples", "2", "--repeats", "4", "--rounds", "2", "--warmup", "1",
            "--target-ci", "0", "--channels", "16", "--cells", "1", "--resolution", "32", "--events", "task-clock,context-switches",
            "--db", dir + "/p.sqlite", "--profiles", dir + "/Profiles", "--device", "e2e-onnxruntime"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("12 planned, 0 already stored, 12 measured now") && r.out.contains("device features: \(dir)/Profiles/e2e-onnxruntime.json"))
        let export = try runTool("modnas-profile", ["export", "--db", dir + "/p.sqlite", "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(export.out.utf8)) as? [[String: Any]])
        #expect(rows.count == 12)
        for row in rows {
            // The counters are the worker's: its task clock per inference is of the order of its CPU
            // time per inference (the agent, blocked on the pipe, would count almost nothing). The
            // two are not the same window (a mean over the counted passes against the median of the
            // timed repetitions): on a loaded 2-core VM they differed by 0.76–1.19×.
            let counters = try #require(row["counters"] as? [String: Any])
            let taskClockMs = try #require(counters["task-clock"] as? Double) / 1e6
            let median = try #require(row["median_ms"] as? Double), cpu = try #require(row["cpu_median_ms"] as? Double)
            #expect(taskClockMs >= 0.5 * cpu && median > 0 && (row["repetitions"] as? Int) == 4, "\(row)")
        }
        let stored = try runTool("modnas-profile", ["devices", "--db", dir + "/p.sqlite"])
        #expect(stored.out.contains("e2e-onnxruntime"))
    }

    @Test func aMissingRuntimeOrAPinnedWorkerIsOneLine() throws {
        let dir = try scratch()
        let args = ["collect", "--host", "--runtime", "onnxruntime", "--samples", "0", "--db", dir + "/p.sqlite", "--profiles", dir + "/Profiles"]
        let missing = try runTool("modnas-profile", args, environment: ["MODNAS_PYTHON": dir + "/no-python"])
        #expect(missing.status != 0 && missing.err.split(separator: "\n").count == 1 && missing.err.contains("run scripts/install-python-deps"), "\(missing.err)")
        let pinned = try runTool("modnas-profile", args + ["--pin", "0"])
        #expect(pinned.status != 0 && pinned.err.contains("--pin pins the agent's thread"), "\(pinned.err)")
        // Nothing was created by a refused run.
        #expect(!FileManager.default.fileExists(atPath: dir + "/p.sqlite"))
    }

    /// On the lowest vector path the CPU executes (AVX2 on an AVX-512 host: `MODNAS_KERNELS`), which
    /// the table names.
    @Test func theBenchmarkComparesTheEngineWithONNXRuntime() throws {
        let path = CPUKernels.runnable.first { $0 != .portable } ?? .portable
        let r = try runTool("modnas", ["benchmark", "--compare", "onnxruntime", "--rounds", "1", "--repeats", "1", "--warmup", "0"],
                            environment: ["MODNAS_KERNELS": path.description])
        #expect(r.status == 0, "\(r.err)")
        let rows = r.out.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.split(separator: " ").count == 7 }
        #expect(rows.count == 10 && r.out.contains("median ratio, deployed engine ÷ ONNX Runtime:") && r.out.contains("Spearman of the medians"))
        #expect(r.out.contains("engine kernels: \(path):"), "\(r.out)")
    }

    /// `MODNAS_KERNELS` is checked before any work: a path the CPU executes is named by `doctor`,
    /// anything else refused in one line.
    @Test func theKernelPathCanBeLoweredAndNothingElse() throws {
        for path in CPUKernels.runnable {
            let r = try runTool("modnas", ["doctor"], environment: ["MODNAS_KERNELS": path.description])
            #expect(r.status == 0 && r.out.contains("engine kernels: \(path):"), "\(path): \(r.out) \(r.err)")
        }
        for value in ["avx1024", "AVX2"] + KernelPath.allCases.filter { $0 > CPUKernels.best }.map(\.description) {
            let r = try runTool("modnas", ["doctor"], environment: ["MODNAS_KERNELS": value])
            #expect(r.status != 0 && r.out.isEmpty && r.err.split(separator: "\n").count == 1 && r.err.contains("MODNAS_KERNELS"), "\(value): \(r.err)")
        }
    }
}
