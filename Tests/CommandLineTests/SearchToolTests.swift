import Foundation
import Testing

@Suite(.serialized) struct SearchToolTests {
    /// A tiny search over 2 training devices (the others zero-shot), then zero-shot fronts and evaluation.
    @Test func searchThenFrontsForAnUnseenDeviceThenEvaluate() throws {
        let dir = try scratch()
        let profiles = "\(dir)/profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        for device in ["pixel3", "silver_4114", "raspi4", "gold_6240"] {
            try FileManager.default.copyItem(atPath: repositoryPath("Profiles/\(device).json"), toPath: "\(profiles)/\(device).json")
        }
        let out = "\(dir)/search"
        let s = try runTool("modnas", ["search", "--device-features", profiles, "--predictors", repositoryPath("Predictors"),
                                       "--hold-out", "gold_6240", "--queries", "60", "--epochs", "2", "--steps-per-epoch", "10",
                                       "--baseline-budget", "30", "--out", out])
        #expect(s.status == 0, "\(s.err)")
        #expect(s.err.contains("epoch 2/2") && s.err.contains("ETA"))
        for file in ["fronts.csv", "hypernetwork.json", "log.csv", "evaluation.txt", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file) missing")
        }
        let fronts = try String(contentsOfFile: "\(out)/fronts.csv", encoding: .utf8).split(separator: "\n")
        #expect(fronts.first == "device,preference_index,r_accuracy,r_latency,arch_index,arch_string,predicted_latency_ms,estimated_accuracy")
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

    @Test func badInputIsOneLine() throws {
        let dir = try scratch()
        func expectOneLineError(_ args: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try runTool("modnas", args)
            #expect(r.status != 0, sourceLocation: sourceLocation)
            #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(fragment), "\(r.err)", sourceLocation: sourceLocation)
        }
        try Data("device,preference_index\nx,1\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/short.csv"))
        try expectOneLineError(["evaluate", "--fronts", "\(dir)/short.csv"], "no column 'r_accuracy'")
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
        try expectOneLineError(["search", "--accuracy", "oracle"], "--accuracy must be surrogate or supernet")
    }
}
