import Autodiff
import Foundation
import GRDB
import Testing
import TestSupport
@testable import ProfileStore

/// A scratch folder for one end-to-end test.
func scratch() throws -> String { try Scratch.directory("modnas-e2e") }

/// Every stored measurement with its counter and energy row counts, rounds and repetitions.
func storedRows(_ path: String) throws -> [(arch: String, counters: Int, energy: Int, rounds: Int, repetitions: Int)] {
    let db = try ProfileDatabase(path: path, readOnly: true)
    return try db.writer.read { d in
        try Row.fetchAll(d, sql: """
            SELECT a.archString AS arch, m.rounds AS rounds, m.repetitionCount AS repetitions,
                   (SELECT COUNT(*) FROM counterValue c WHERE c.measurementId = m.id) AS counters,
                   (SELECT COUNT(*) FROM energy e WHERE e.measurementId = m.id) AS energy
            FROM measurement m JOIN architecture a ON a.id = m.architectureId
            """).map { ($0["arch"], $0["counters"], $0["energy"], $0["rounds"], $0["repetitions"]) }
    }
}

@Suite(.serialized) struct ProfilerToolTests {
    /// A small, quick network so that a run of tens of architectures takes seconds.
    func collectArguments(_ dir: String, samples: Int, extra: [String] = []) -> [String] {
        ["collect", "--host", "--samples", "\(samples)", "--repeats", "8", "--rounds", "2", "--warmup", "1", "--channels", "8", "--cells", "2",
         "--resolution", "16", "--target-ci", "0", "--db", "\(dir)/p.sqlite", "--profiles", "\(dir)/Profiles", "--device", "e2e"] + extra
    }

    @Test func killedCollectionLosesNothingAndResumes() throws {
        let dir = try scratch()
        let args = collectArguments(dir, samples: 50)
        let process = Process()
        process.executableURL = try builtTool("modnas-profile")
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill once a few architectures have finished both rounds (the rest have one).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            if FileManager.default.fileExists(atPath: "\(dir)/p.sqlite"), let rows = try? storedRows("\(dir)/p.sqlite"),
               rows.filter({ $0.rounds == 2 }).count >= 3 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        let afterKill = try storedRows("\(dir)/p.sqlite")
        let complete = afterKill.filter { $0.rounds == 2 }.count
        #expect(complete >= 3 && complete < 60 && afterKill.count == 60, "\(complete) of \(afterKill.count) complete")
        // No partial rows: each stored row holds whole rounds (4 repetitions each), all 7 counters
        // and its energy row.
        #expect(afterKill.allSatisfy { $0.counters == 7 && $0.energy == 1 && $0.repetitions == 4 * $0.rounds })

        let resumed = try runTool("modnas-profile", args)
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.out.contains("60 planned, \(complete) already stored, \(60 - complete) measured now (\(60 - complete) of them continued from stored rounds)"),
                "\(resumed.out)")
        let final = try storedRows("\(dir)/p.sqlite")
        #expect(final.count == 60 && Set(final.map(\.arch)).count == 60)
        #expect(final.allSatisfy { $0.counters == 7 && $0.energy == 1 && $0.rounds == 2 && $0.repetitions == 8 })
        #expect(FileManager.default.fileExists(atPath: "\(dir)/Profiles/e2e.json"))

        // The session's end measured 10 of the 60 again (10 %, at least 10) without storing rounds
        // (the rows above kept 2 rounds of 8 repetitions), and stored the agreement.
        #expect(resumed.out.contains("repeatability: 10 architectures measured again in a fresh order: wall time Spearman"), "\(resumed.out)")
        let stability = try runTool("modnas-profile", ["stability", "--db", "\(dir)/p.sqlite", "--device", "e2e"])
        #expect(stability.status == 0 && stability.out.split(separator: "\n").count == 1 && stability.out.contains("thread CPU time Spearman"),
                "\(stability.out)\(stability.err)")

        // Two databases of the device compare their medians; a database with itself agrees fully.
        let itself = try runTool("modnas-profile", ["stability", "--db", "\(dir)/p.sqlite", "--against", "\(dir)/p.sqlite", "--device", "e2e"])
        #expect(itself.status == 0 && itself.out.hasPrefix("60 architectures in both databases: wall time Spearman 1.000, Kendall τ 1.000, median relative difference 0.0 %"),
                "\(itself.out)\(itself.err)")
        let other = try scratch()
        _ = try runTool("modnas-profile", ["import", "--db", "\(other)/b.sqlite"])
        let unrelated = try runTool("modnas-profile", ["stability", "--db", "\(dir)/p.sqlite", "--against", "\(other)/b.sqlite", "--device", "e2e"])
        #expect(unrelated.status != 0 && unrelated.err.split(separator: "\n").count == 1 && unrelated.err.contains("e2e"), "\(unrelated.err)")

        // Re-running measures nothing, so checks nothing.
        let again = try runTool("modnas-profile", args)
        #expect(again.out.contains("60 already stored, 0 measured now") && again.out.contains("repeatability: not checked"))
    }

    /// A profile on the lowest vector kernel path (`MODNAS_KERNELS`) records the path in its
    /// session, and in its configuration key where the path is below the CPU's best (so it does
    /// not resume the best path's rows).
    @Test func theKernelPathIsRecordedWithTheSession() throws {
        let dir = try scratch()
        let path = CPUKernels.runnable.first { $0 != .portable } ?? .portable
        let r = try runTool("modnas-profile", collectArguments(dir, samples: 0), environment: ["MODNAS_KERNELS": path.description])
        #expect(r.status == 0, "\(r.err)")
        let db = try ProfileDatabase(path: "\(dir)/p.sqlite", readOnly: true)
        let sessions = try db.writer.read { d in try Row.fetchAll(d, sql: "SELECT configKey, configuration FROM session WHERE kind = 'measured'") }
        #expect(sessions.count == 1)
        let (key, configuration): (String, String) = (sessions.first?["configKey"] ?? "", sessions.first?["configuration"] ?? "")
        #expect(configuration.contains("\"kernels\":\"\(path):"), "\(configuration)")
        #expect(key.contains("kernels=\(path)") == (path < CPUKernels.best), "\(key)")
    }

    @Test func twoAgentsWriteOneDatabaseAtOnce() throws {
        let dir = try scratch()
        let agents = try (0..<2).map { i -> Process in
            let p = Process()
            p.executableURL = try builtTool("modnas-profile")
            p.arguments = collectArguments(dir, samples: 16, extra: ["--shard", "\(i)/2"])
            p.standardOutput = FileHandle.nullDevice
            let err = Pipe()
            p.standardError = err
            try p.run()
            return p
        }
        for a in agents { a.waitUntilExit() }
        #expect(agents.allSatisfy { $0.terminationStatus == 0 })
        let rows = try storedRows("\(dir)/p.sqlite")
        #expect(rows.count == 26 && Set(rows.map(\.arch)).count == 26)
        #expect(rows.allSatisfy { $0.rounds == 2 && $0.repetitions == 8 })
        let export = try runTool("modnas-profile", ["export", "--db", "\(dir)/p.sqlite", "--format", "csv"])
        #expect(export.status == 0 && export.out.split(separator: "\n").count == 27)
        #expect(export.out.split(separator: "\n")[0].contains("median_ms"))
        // Every measured row has the thread's CPU time beside its wall time, never above it by much.
        let lines = export.out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let wall = lines[0].firstIndex(of: "median_ms")!, cpu = lines[0].firstIndex(of: "cpu_median_ms")!
        #expect(lines.dropFirst().allSatisfy { row in
            guard let w = Double(row[wall]), let c = Double(row[cpu]) else { return false }
            return c > 0 && c <= w * 1.05 + 0.05
        }, "\(lines.prefix(3))")
    }

    @Test func badInputIsOneLineAndStoresNothingWrong() throws {
        let dir = try scratch()
        func expectOneLineError(_ args: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try runTool("modnas-profile", args)
            #expect(r.status != 0, sourceLocation: sourceLocation)
            #expect(r.err.split(separator: "\n").count == 1, "\(r.err)", sourceLocation: sourceLocation)
            #expect(r.err.contains(fragment), "\(r.err)", sourceLocation: sourceLocation)
        }
        let base = collectArguments(dir, samples: 0)
        try expectOneLineError(base.map { $0 == "\(dir)/p.sqlite" ? "/nonexistent-dir/p.sqlite" : $0 }, "writable")
        try expectOneLineError(base + ["--events", "cycles,bogus-event-name"], "does not know the event 'bogus-event-name'")
        try expectOneLineError(base + ["--shard", "2/2"], "--shard 2/2 is out of range")
        try expectOneLineError(base + ["--shard", "abc"], "--shard abc is not i/n")
        try Data("not an arch\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/bad.txt"))
        try expectOneLineError(base + ["--archs", "\(dir)/bad.txt"], "bad.txt line 1")
        try expectOneLineError(["collect", "--samples", "1"], "needs --host")
        // Device names are names, not paths, and a host does not take a benchmark device's name.
        let named = { (name: String) in base.map { $0 == "e2e" ? name : $0 } }
        for name in ["../../outside", "a/b", "", "a,b", "a\"b", "a\nb"] { try expectOneLineError(named(name), "is not a name") }
        try expectOneLineError(named("raspi4"), "is a benchmark device")
        try expectOneLineError(base + ["--unstable-cv", "nan"], "--unstable-cv must be a finite number")
        try expectOneLineError(base + ["--unstable-cv=-1"], "--unstable-cv must be a finite number")
        for command in ["devices", "export"] { try expectOneLineError([command, "--db", "\(dir)/missing.sqlite"], "no such file") }
        let written = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "bad.txt" }
        #expect(written.isEmpty && !FileManager.default.fileExists(atPath: dir + "/../outside.json"), "a refused collect wrote \(written)")
        // A database of a newer schema is refused and kept as it was.
        let db = try ProfileDatabase(path: "\(dir)/future.sqlite")
        try db.writer.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2-future')") }
        try expectOneLineError(["devices", "--db", "\(dir)/future.sqlite"], "newer modnas")
        try expectOneLineError(["features", "--db", "\(dir)/future.sqlite", "--device", "x"], "newer modnas")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/p.sqlite"))
    }

    /// Read commands work on a database on read-only media (bind-mounting read-only needs root).
    @Test(.enabled(if: geteuid() == 0, "a read-only bind mount needs root"))
    func readCommandsWorkOnReadOnlyMedia() throws {
        let dir = try scratch()
        try FileManager.default.createDirectory(atPath: "\(dir)/src", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir)/ro", withIntermediateDirectories: true)
        let collect = try runTool("modnas-profile", collectArguments("\(dir)/src", samples: 10))
        #expect(collect.status == 0, "\(collect.err)")
        func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = arguments
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(try run("/bin/mount", ["--bind", "\(dir)/src", "\(dir)/ro"]) == 0)
        defer { _ = try? run("/bin/umount", ["\(dir)/ro"]) }
        try #require(try run("/bin/mount", ["-o", "remount,ro,bind", "\(dir)/ro"]) == 0)
        let db = "\(dir)/ro/p.sqlite"
        let devices = try runTool("modnas-profile", ["devices", "--db", db])
        #expect(devices.status == 0 && devices.out.contains("e2e"), "\(devices.err)")
        let export = try runTool("modnas-profile", ["export", "--db", db, "--device", "e2e"])
        #expect(export.status == 0 && export.out.split(separator: "\n").count == 21, "\(export.err)")
        let eval = try runTool("modnas-predict", ["eval", "--predictor", repositoryPath("Predictors/meta.json"), "--db", db, "--device", "e2e"])
        #expect(eval.status == 0 && eval.out.contains("Spearman"), "\(eval.err)")
    }

    /// Only meaningful where the host has no RAPL powercap tree (as on the development VM); on a
    /// host with RAPL the runner reports it as skipped.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/sys/class/powercap/intel-rapl:0"), "this host has RAPL"))
    func explicitEnergySourceThatCannotMeasureIsAnError() throws {
        let dir = try scratch()
        let r = try runTool("modnas-profile", collectArguments(dir, samples: 0, extra: ["--energy", "rapl"]))
        #expect(r.status != 0 && r.err.contains("--energy rapl cannot measure") && r.err.split(separator: "\n").count == 1)
    }
}
