import Foundation
import Testing

@Suite(.serialized) struct SearchToolTests {
    /// A tiny search over 2 training devices (the others zero-shot), then zero-shot fronts and evaluation.
    @Test func searchThenFrontsForAnUnseenDeviceThenEvaluate() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "silver_4114", "raspi4", "gold_6240"], in: dir)
        let out = "\(dir)/search"
        let s = try runTool("modnas", ["search", "--device-features", profiles, "--predictors", repositoryPath("Predictors"),
                                       "--hold-out", "gold_6240", "--queries", "60", "--epochs", "2", "--steps-per-epoch", "10",
                                       "--baseline-budget", "30", "--out", out])
        #expect(s.status == 0, "\(s.err)")
        #expect(s.err.contains("epoch 2/2") && s.err.contains("ETA"))
        for file in ["fronts.csv", "hypernetwork.json", "log.csv", "evaluation.txt", "report.html", "checkpoint.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file) missing")
        }
        // Nothing of the staging folder is left beside the output.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["profiles", "search"])
        // An output folder holding another run's files is refused without --force, and kept.
        let occupied = try runTool("modnas", ["search", "--device-features", profiles, "--predictors", repositoryPath("Predictors"), "--out", out])
        #expect(occupied.status != 0 && occupied.err.split(separator: "\n").count == 1 && occupied.err.contains("--force"), "\(occupied.err)")
        #expect(FileManager.default.fileExists(atPath: "\(out)/report.html"))
        let fronts = try String(contentsOfFile: "\(out)/fronts.csv", encoding: .utf8).split(separator: "\n")
        #expect(fronts.first == "device,preference_index,r_accuracy,r_latency,arch_index,arch_string,predicted_latency_ms,estimated_test_error_percent")
        #expect(fronts.count == 1 + 4 * 24)
        let report = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        // Self-contained: inline SVG, nothing fetched (no scripts, links or sources).
        #expect(report.contains("<svg") && !report.contains("<script") && !report.contains("<link") && !report.contains("src="))
        #expect(report.contains("NSGA-II") && report.contains("raspi4"))
        // The held-out device and a feature file the search never saw.
        var unseen = try String(contentsOfFile: repositoryPath("Profiles/titan_rtx_256.json"), encoding: .utf8)
        unseen = unseen.replacingOccurrences(of: "\"titan_rtx_256\"", with: "\"my_new_gpu\"")
        try unseen.write(toFile: "\(dir)/my_new_gpu.json", atomically: true, encoding: .utf8)
        let f = try runTool("modnas", ["fronts", "--hypernetwork", "\(out)/hypernetwork.json", "--device-features", "\(dir)/my_new_gpu.json",
                                       "--out", "\(dir)/new.csv"])
        #expect(f.status == 0, "\(f.err)")
        let rows = try String(contentsOfFile: "\(dir)/new.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 25 && rows.dropFirst().allSatisfy { $0.hasPrefix("my_new_gpu,") })
        let e = try runTool("modnas", ["evaluate", "--fronts", "\(out)/fronts.csv", "--baseline-budget", "40"])
        #expect(e.status == 0, "\(e.err)")
        #expect(e.out.contains("pixel3") && e.out.contains("gold_6240") && e.out.contains("raspi4: not evaluated") && e.out.contains("NSGA-II"))
        // Seeded baselines give the same table in another process (no hash-order dependence).
        let again = try runTool("modnas", ["evaluate", "--fronts", "\(out)/fronts.csv", "--baseline-budget", "40"])
        #expect(again.out == e.out)
    }

    /// Three objectives (test error, latency, parameters): preference vectors on the simplex
    /// (Das and Dennis, 28 for 24 asked), a parameter column counted as NAS-Bench-201 counts,
    /// fronts for an unseen device from the file, evaluation and checkpoint carrying the list.
    @Test func aThreeObjectiveSearchWritesAndReadsItsObjectives() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "silver_4114", "raspi4"], in: dir)
        let out = "\(dir)/search"
        let args = ["search", "--device-features", profiles, "--predictors", repositoryPath("Predictors"), "--objectives", "latency,params",
                    "--queries", "40", "--epochs", "2", "--steps-per-epoch", "5", "--baseline-budget", "30", "--out", out]
        let s = try runTool("modnas", args)
        #expect(s.status == 0, "\(s.err)")
        #expect(s.err.contains("objectives test error, latency, params") && s.err.contains("params differentiated as a linear fit"), "\(s.err)")
        let fronts = try String(contentsOfFile: "\(out)/fronts.csv", encoding: .utf8).split(separator: "\n")
        #expect(fronts.first == "device,preference_index,r_accuracy,r_latency,r_params,arch_index,arch_string,predicted_latency_ms,params,estimated_test_error_percent")
        #expect(fronts.count == 1 + 3 * 28)
        let allConv = fronts.first { $0.contains("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|") }
        #expect(allConv == nil || allConv!.contains(",1531546,"))
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/hypernetwork.json"))) as? [String: Any]
        #expect(file?["objectives"] as? [String] == ["test_error_percent", "latency_ms", "params"])
        // Each method's accuracy queries beside its HV; the baselines also at MODNAS's total (40 over the 2 benchmark devices).
        #expect(s.out.contains("accuracy queries: MODNAS 40 in all (shared by its 2 training devices); each baseline column 30 per benchmark device (60 over the 2); "
                               + "each '@20' column 20 per benchmark device (40 over the 2), MODNAS's total"), "\(s.out)")
        #expect(s.out.contains("HV random @20") && s.out.contains("HV NSGA-II @20"), "\(s.out)")
        let report = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        #expect(report.contains("(error × params)") && report.contains("(latency × params)"))
        // evaluate reads the objectives from the file's columns and scores in three dimensions.
        let e = try runTool("modnas", ["evaluate", "--fronts", "\(out)/fronts.csv", "--baseline-budget", "20"])
        #expect(e.status == 0 && e.out.contains("accuracy queries: each baseline column 20 per benchmark device (40 over the 2)"), "\(e.err)")
        let stored = try String(contentsOfFile: "\(out)/evaluation.txt", encoding: .utf8)
        func pixel3(_ text: String) -> [Substring] { text.split(separator: "\n").first { $0.hasPrefix("pixel3") }?.split(separator: " ") ?? [] }
        #expect(pixel3(e.out).prefix(8) == pixel3(stored).prefix(8) && pixel3(stored).count == 8 + 6, "\(e.out)\n\(stored)")
        // evaluate's baselines at 20 per device are the search's '@20' columns (seeded).
        #expect(pixel3(e.out).suffix(3) == pixel3(stored).suffix(3), "\(e.out)\n\(stored)")
        let f = try runTool("modnas", ["fronts", "--hypernetwork", "\(out)/hypernetwork.json", "--device-features", "\(profiles)/raspi4.json", "--out", "\(dir)/raspi4.csv"])
        #expect(f.status == 0, "\(f.err)")
        #expect(try String(contentsOfFile: "\(dir)/raspi4.csv", encoding: .utf8).split(separator: "\n").count == 1 + 28)
        // A count that does not match the architecture is refused with its line.
        let damaged = fronts.enumerated().map { $0 == 1 ? $1.replacingOccurrences(of: ",\($1.split(separator: ",")[8]),", with: ",12,") : String($1) }
        try (damaged.joined(separator: "\n") + "\n").write(toFile: "\(dir)/damaged.csv", atomically: true, encoding: .utf8)
        try expectOneLineError("modnas", ["evaluate", "--fronts", "\(dir)/damaged.csv"], "line 2: params 12 is not arch_string's")
        // The checkpoint names the objectives: a resume with another list is refused.
        try expectOneLineError("modnas", args.map { $0 == "latency,params" ? "latency" : $0 } + ["--resume"], "other objectives")
        try expectOneLineError("modnas", ["search", "--objectives", "latency,energy2", "--out", "\(dir)/x"], "unknown objective 'energy2'")
        // Energy needs an energy meta predictor, and devices with energy (NB201's table has none).
        try expectOneLineError("modnas", ["search", "--objectives", "latency,energy", "--out", "\(dir)/x"], "no energy meta predictor")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x/fronts.csv"))
    }

    /// The README pipeline in miniature: a profiled host with 20 measurements trains in
    /// `search --db`, its front is measured on it, and `evaluate --db` scores it on those measurements.
    @Test func aProfiledHostTrainsAndIsEvaluatedOnItsMeasurements() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "raspi4"], in: dir)
        let db = "\(dir)/p.sqlite"
        let tiny = ["--repeats", "2", "--rounds", "1", "--warmup", "0", "--channels", "4", "--cells", "1", "--resolution", "8",
                    "--db", db, "--profiles", profiles, "--device", "my_host"]
        let collect = try runTool("modnas-profile", ["collect", "--host", "--samples", "10"] + tiny)
        #expect(collect.status == 0, "\(collect.err)")
        let s = try runTool("modnas", ["search", "--device-features", profiles, "--predictors", repositoryPath("Predictors"), "--db", db,
                                       "--queries", "40", "--epochs", "1", "--steps-per-epoch", "5", "--baseline-budget", "0", "--out", "\(dir)/search"])
        #expect(s.status == 0 && s.err.contains("adapting the meta predictor to my_host on 20 measured architectures"), "\(s.err)")
        #expect(s.err.contains("training devices (my_host, pixel3)"), "\(s.err)")
        let fronts = try String(contentsOfFile: "\(dir)/search/fronts.csv", encoding: .utf8).split(separator: "\n")
        let hostFront = Set(fronts.filter { $0.hasPrefix("my_host,") }.map { String($0.split(separator: ",")[5]) })
        try hostFront.sorted().joined(separator: "\n").write(toFile: "\(dir)/front.txt", atomically: true, encoding: .utf8)
        let measure = try runTool("modnas-profile", ["collect", "--host", "--samples", "0", "--archs", "\(dir)/front.txt"] + tiny)
        #expect(measure.status == 0, "\(measure.err)")
        let e = try runTool("modnas", ["evaluate", "--fronts", "\(dir)/search/fronts.csv", "--db", db])
        #expect(e.status == 0, "\(e.err)")
        let hostRow = e.out.split(separator: "\n").first { $0.hasPrefix("my_host ") }
        #expect(hostRow?.contains("measured") == true, "\(e.out)")
    }

    /// A search whose disk fills up while it writes its results says so in one line, leaves no
    /// partial folder and keeps its checkpoint (mounting a 2 MB tmpfs needs root).
    @Test(.enabled(if: geteuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskLeavesNoMixedOutput() throws {
        let dir = try scratch()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [dir]
            try? umount.run()
            umount.waitUntilExit()
        }
        let r = try runTool("modnas", ["search", "--epochs", "1", "--steps-per-epoch", "5", "--baseline-budget", "0", "--queries", "20",
                                       "--predictors", repositoryPath("Predictors"), "--device-features", repositoryPath("Profiles"), "--out", "\(dir)/out"])
        #expect(r.status != 0 && r.err.split(separator: "\n").last?.contains("no space left on the device") == true, "\(r.err)")
        #expect(!r.err.contains("NSCocoaErrorDomain") && !r.err.contains("Code=640"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out") == ["checkpoint.json"])
    }

    /// A supernet search (its surrogate refitted each epoch) killed with SIGKILL after its second
    /// checkpoint and resumed gives the fronts of an uninterrupted run with the same seed.
    @Test func supernetSearchResumedAfterKillGivesTheSameFronts() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "silver_4114", "raspi4"], in: dir)
        func arguments(_ out: String) -> [String] {
            ["search", "--accuracy", "supernet", "--dataset", "synthetic", "--device-features", profiles, "--predictors", repositoryPath("Predictors"),
             "--channels", "4", "--batch-size", "8", "--training-images", "512", "--test-images", "64", "--epochs", "8", "--warmup-epochs", "1",
             "--queries", "20", "--validation-images", "64", "--baseline-budget", "0", "--out", out]
        }
        // With the yardstick: the fitted surrogate's exhaustive optimum and its collapse check.
        let whole = try runTool("modnas", arguments("\(dir)/whole") + ["--exhaustive"])
        #expect(whole.status == 0, "\(whole.err)")
        #expect(whole.err.contains("warm-up") && whole.err.contains("epoch 8/8"))
        #expect(whole.err.contains("exhaustive optimum of the search's objectives") && whole.err.contains("exhaustive optimum's "), "\(whole.err)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/whole/exhaustive-fronts.csv"))
        // The warm-up epoch's fronts are not scored: their HV is absent, not 0.
        let log = try String(contentsOfFile: "\(dir)/whole/log.csv", encoding: .utf8).split(separator: "\n")
        #expect(log[1].split(separator: ",", omittingEmptySubsequences: false)[3] == "" && log[2].split(separator: ",", omittingEmptySubsequences: false)[3] != "", "\(log)")

        let process = Process()
        process.executableURL = try builtTool("modnas")
        process.arguments = arguments("\(dir)/killed")
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let checkpoint = "\(dir)/killed/checkpoint.json"
        // Killed after the second checkpoint: past the warm-up epoch, after hypernetwork steps.
        func checkpointedEpochs() -> Int {
            guard let data = FileManager.default.contents(atPath: checkpoint),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
            return (json["log"] as? [Any])?.count ?? 0
        }
        while process.isRunning && checkpointedEpochs() < 2 { usleep(5_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the search finished before the kill; give it more epochs")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/killed/fronts.csv"))

        let resumed = try runTool("modnas", arguments("\(dir)/killed") + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.err.contains("resumed from") && !resumed.err.contains("epoch 1/8") && !resumed.err.contains("epoch 2/8"), "\(resumed.err)")
        let a = try String(contentsOfFile: "\(dir)/whole/fronts.csv", encoding: .utf8)
        let b = try String(contentsOfFile: "\(dir)/killed/fronts.csv", encoding: .utf8)
        #expect(a == b && a.split(separator: "\n").count == 1 + 3 * 24)

        // Zero-shot fronts from a supernet search: estimates only for the architectures it scored.
        let f = try runTool("modnas", ["fronts", "--hypernetwork", "\(dir)/killed/hypernetwork.json", "--device-features", "\(profiles)/raspi4.json",
                                       "--out", "\(dir)/raspi4.csv"])
        #expect(f.status == 0, "\(f.err)")
        let raspi = try String(contentsOfFile: "\(dir)/raspi4.csv", encoding: .utf8)
        let fromSearch = a.split(separator: "\n").filter { $0.hasPrefix("raspi4,") }
        #expect(fromSearch.count == 24 && Array(raspi.split(separator: "\n").dropFirst()) == fromSearch)
        let e = try runTool("modnas", ["evaluate", "--fronts", "\(dir)/raspi4.csv"])
        #expect(e.status == 0 && e.out.contains("raspi4: not evaluated"), "\(e.err)")

        // Another seed is refused, in one line, and the checkpoint stays.
        let other = try runTool("modnas", arguments("\(dir)/killed") + ["--resume", "--seed", "1"])
        #expect(other.status != 0 && other.err.split(separator: "\n").count == 1 && other.err.contains("other settings"), "\(other.err)")
        #expect(FileManager.default.fileExists(atPath: checkpoint))
    }

    @Test func badInputIsOneLine() throws {
        let dir = try scratch()
        func expectOneLineError(_ args: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try runTool("modnas", args)
            #expect(r.status != 0, sourceLocation: sourceLocation)
            #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(fragment), "\(r.err)", sourceLocation: sourceLocation)
        }
        try Data("device,preference_index\nx,1\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/short.csv"))
        try expectOneLineError(["evaluate", "--fronts", "\(dir)/short.csv"], "no column estimated_test_error_percent or estimated_perplexity")
        try expectOneLineError(["evaluate", "--fronts", "\(dir)/short.csv", "--benchmark", "nb201"], "no column estimated_test_error_percent or estimated_perplexity")
        try Data("{\"format\": \"modnas.hypernetwork.v0\"}".utf8).write(to: URL(fileURLWithPath: "\(dir)/old.json"))
        try expectOneLineError(["fronts", "--hypernetwork", "\(dir)/old.json", "--device-features", repositoryPath("Profiles"), "--out", "\(dir)/x.csv"],
                               "modnas.hypernetwork.v0")
        var features = try String(contentsOfFile: repositoryPath("Profiles/raspi4.json"), encoding: .utf8)
        features = features.replacingOccurrences(of: "\"values\" : [", with: "\"values\" : [ 1.0,")
        try FileManager.default.createDirectory(atPath: "\(dir)/bad", withIntermediateDirectories: true)
        try features.write(toFile: "\(dir)/bad/raspi4.json", atomically: true, encoding: .utf8)
        try expectOneLineError(["search", "--device-features", "\(dir)/bad", "--predictors", repositoryPath("Predictors"), "--out", "\(dir)/o"],
                               "11 values")
        try FileManager.default.createDirectory(atPath: "\(dir)/none", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryPath("Profiles/raspi4.json"), toPath: "\(dir)/none/raspi4.json")
        try expectOneLineError(["search", "--device-features", "\(dir)/none", "--predictors", repositoryPath("Predictors"), "--out", "\(dir)/o"],
                               "no device in")
        try expectOneLineError(["search", "--space", "ofa", "--accuracy", "supernet+proxy"], "--accuracy supernet+proxy trains an NB201 supernet")
        try expectOneLineError(["search", "--accuracy", "supernet", "--supernet-objective", "cross-entropy", "--exhaustive", "--out", "\(dir)/o"],
                               "the supernet's cross-entropy objective has none")
        // Supernet options outside the supernet modes would be ignored: refused (--out: a regression runs a search there, not here).
        try expectOneLineError(["search", "--shared-kernels", "--out", "\(dir)/o"], "--shared-kernels configures the supernet, which --accuracy surrogate does not train")
        try expectOneLineError(["search", "--accuracy", "proxy", "--channels", "16", "--out", "\(dir)/o"], "--channels configures the supernet")
        try expectOneLineError(["search", "--accuracy", "oracle"], "Please provide one of 'surrogate', 'benchmark', 'supernet', 'proxy' or 'supernet+proxy'")
    }
}
