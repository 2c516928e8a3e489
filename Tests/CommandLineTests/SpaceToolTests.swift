import Foundation
import GRDB
import Testing
@testable import ProfileStore

/// The OFA MobileNetV3 space end to end through `modnas-profile`, beside NB201 in one store
/// and one profiles folder.
@Suite(.serialized) struct SpaceToolTests {
    @Test func ofaCollectionStoresItsSpaceAndWritesItsOwnFeatureFile() throws {
        let dir = try scratch()
        let common = ["--host", "--repeats", "1", "--rounds", "1", "--warmup", "0", "--db", "\(dir)/p.sqlite",
                      "--profiles", "\(dir)/Profiles", "--device", "e2e"]
        let nb201 = try runTool("modnas-profile", ["collect", "--samples", "0", "--channels", "4", "--cells", "1", "--resolution", "8"] + common)
        #expect(nb201.status == 0, "\(nb201.err)")
        // An --archs list in the shared table's columns (CRLF, as Python writes it).
        let list = "arch_index,ks,e,d,r\r\n7,\(Array(repeating: "5", count: 20).joined(separator: " ")),"
            + "\(Array(repeating: "4", count: 20).joined(separator: " ")),3 2 4 2 3,160\r\n"
        try Data(list.utf8).write(to: URL(fileURLWithPath: "\(dir)/list.csv"))
        let ofa = try runTool("modnas-profile", ["collect", "--space", "ofa", "--samples", "2", "--archs", "\(dir)/list.csv"] + common)
        #expect(ofa.status == 0, "\(ofa.err)")
        #expect(ofa.out.contains("13 planned, 0 already stored, 13 measured now"), "\(ofa.out)")
        #expect(ofa.out.contains("Profiles/e2e.ofa.json"))

        let store = try ProfileDatabase(path: "\(dir)/p.sqlite", readOnly: true)
        let spaces = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT a.space, COUNT(*) AS n FROM measurement m JOIN architecture a ON a.id = m.architectureId GROUP BY a.space")
                .map { ($0["space"] as String, $0["n"] as Int) }
        }
        #expect(spaces.sorted { $0.0 < $1.0 }.map(\.1) == [10, 13] && spaces.map(\.0).sorted() == ["nb201", "ofa"])
        let listed = try store.exportRows(device: "e2e").filter { $0.role == "listed" }
        #expect(listed.map(\.arch_string) == ["r160_k5e4-k5e4-k5e4_k5e4-k5e4_k5e4-k5e4-k5e4-k5e4_k5e4-k5e4_k5e4-k5e4-k5e4"])
        #expect(listed.first?.arch_columns["d"] == "3 2 4 2 3")

        // Both feature files, each of its own space, neither overwritten by the other.
        let nbFeatures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/Profiles/e2e.json"))) as! [String: Any]
        let ofaFeatures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/Profiles/e2e.ofa.json"))) as! [String: Any]
        #expect(nbFeatures["space"] as? String == "nb201" && ofaFeatures["space"] as? String == "ofa")
        #expect(ofaFeatures["reference_arch_indices"] as? [Int] == [1316, 1587, 1621, 1636, 1980, 2329, 2487, 3355, 3740, 4948])

        // Re-running resumes: nothing is measured again.
        let again = try runTool("modnas-profile", ["collect", "--space", "ofa", "--samples", "2", "--archs", "\(dir)/list.csv"] + common)
        #expect(again.out.contains("13 planned, 13 already stored, 0 measured now"), "\(again.out)")

        // The 11 OFA GPU settings and titan_rtx_64 (features only) beside the host.
        let imported = try runTool("modnas-profile", ["import", "--space", "ofa", "--db", "\(dir)/p.sqlite"])
        #expect(imported.status == 0 && imported.out.contains("imported 12 new benchmark devices"), "\(imported.err)")
        let devices = try runTool("modnas-profile", ["devices", "--db", "\(dir)/p.sqlite"])
        let ofaRows = devices.out.split(separator: "\n").filter { $0.hasPrefix("ofa ") }
        #expect(ofaRows.count == 13 && ofaRows.filter { $0.contains(" 5000 ") }.count == 11, "\(devices.out)")
        #expect(devices.out.contains("nb201  e2e"))

        let export = try runTool("modnas-profile", ["export", "--db", "\(dir)/p.sqlite", "--device", "e2e"])
        #expect(export.out.hasPrefix("device,label,session,space,arch_index,arch_string,ks,e,d,r,role"), "\(export.out.prefix(200))")

        // An OFA latency predictor from the imported table, applied to the table and to a list.
        let train = try runTool("modnas-predict", ["train", "--space", "ofa", "--kind", "mlp", "--db", "\(dir)/p.sqlite", "--device", "v100_64",
                                                   "--train-size", "200", "--max-epochs", "20", "--out", "\(dir)/P"])
        #expect(train.status == 0 && train.out.contains("mlp-v100_64.ofa.json"), "\(train.err)")
        let predictor = "\(dir)/P/mlp-v100_64.ofa.json", features = repositoryPath("Profiles/v100_64.ofa.json")
        let all = try runTool("modnas-predict", ["predict", "--space", "ofa", "--predictor", predictor, "--device-features", features, "--all"])
        let rows = all.out.split(separator: "\n")
        #expect(all.status == 0 && rows.first == "arch_index,arch_string,ks,e,d,r,predicted_latency_ms" && rows.count == 5_001, "\(all.err)")
        #expect(rows[1].hasPrefix("0,r204_k7e6-k5e4_"), "\(rows[1])")
        let fromList = try runTool("modnas-predict", ["predict", "--space", "ofa", "--predictor", predictor, "--device-features", features,
                                                    "--archs", "\(dir)/list.csv"])
        #expect(fromList.out.split(separator: "\n").last?.hasPrefix(",r160_k5e4-k5e4-k5e4_") == true, "\(fromList.out)\(fromList.err)")
        // Energy for a latency-only benchmark device is refused by name and reason; without
        // --device no device has energy here (the e2e host has no RAPL), and that is one line too.
        let energy = try runTool("modnas-predict", ["train", "--space", "ofa", "--metric", "energy", "--kind", "mlp", "--db", "\(dir)/p.sqlite",
                                                    "--device", "v100_64", "--out", "\(dir)/P"])
        #expect(energy.status != 0 && energy.err.contains("device 'v100_64' has no energy in space ofa (its benchmark table holds no energy)")
                && energy.err.split(separator: "\n").count == 1, "\(energy.err)")
        let anyEnergy = try runTool("modnas-predict", ["train", "--space", "ofa", "--metric", "energy", "--kind", "meta", "--db", "\(dir)/p.sqlite"])
        #expect(anyEnergy.status != 0 && anyEnergy.err.contains("no device") && anyEnergy.err.split(separator: "\n").count == 1, "\(anyEnergy.err)")
        // The OFA predictor in an NB201 run is one line that names the flag.
        let wrongSpace = try runTool("modnas-predict", ["predict", "--predictor", predictor, "--device-features", features, "--all"])
        #expect(wrongSpace.status != 0 && wrongSpace.err.contains("--space ofa") && wrongSpace.err.split(separator: "\n").count == 1, "\(wrongSpace.err)")
    }

    /// HW-GPT-Bench's 7 training devices (latency and energy of 10,000 architectures) and 5 test
    /// devices (10 reference latencies and energies); their feature files carry both vectors.
    @Test func theGPTBenchmarkImportsWithEnergy() throws {
        let dir = try scratch()
        let imported = try runTool("modnas-profile", ["import", "--space", "gpt", "--db", "\(dir)/g.sqlite"])
        #expect(imported.status == 0 && imported.out.contains("imported 12 new benchmark devices, 12 sessions, 70050 measurements"), "\(imported.out)\(imported.err)")
        let features = try runTool("modnas-profile", ["features", "--space", "gpt", "--db", "\(dir)/g.sqlite", "--device", "v100", "--out", dir])
        #expect(features.status == 0, "\(features.err)")
        let v100 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/v100.gpt.json"))) as! [String: Any]
        // The shipped feature table's v100 row: ref0 46.7315 ms and 2.853233 J.
        #expect((v100["values"] as? [Double])?.first == 46.7315 && (v100["energy_values"] as? [Double])?.first == 2.853233)
        let train = try runTool("modnas-predict", ["train", "--space", "gpt", "--metric", "energy", "--kind", "mlp", "--db", "\(dir)/g.sqlite",
                                                   "--device", "a6000", "--train-size", "500", "--max-epochs", "20", "--out", "\(dir)/P"])
        #expect(train.status == 0 && train.out.contains("energy-mlp-a6000.gpt.json"), "\(train.err)")
    }

    /// A GPT fronts file is recognised by its loss column; three-objective fronts are scored on
    /// perplexity and latency alone with --objectives latency, and a cost the file lacks is refused.
    @Test func gptFrontsAreScoredOnASubsetOfTheirObjectives() throws {
        let dir = try scratch()
        let header = "device,preference_index,r_accuracy,r_latency,r_energy,arch_index,arch_string,predicted_latency_ms,predicted_energy_j,estimated_perplexity"
        try (header + "\nP100,0,1.000000,0.000000,0.000000,0,e384-l10-h12.4.12.12.4.4.4.8.12.4-m2.3.4.2.3.3.2.3.2.4-b0,120.5,20.25,30.1\n")
            .write(toFile: "\(dir)/f.csv", atomically: true, encoding: .utf8)
        let two = try runTool("modnas", ["evaluate", "--fronts", "\(dir)/f.csv", "--objectives", "latency"])
        #expect(two.status == 0 && two.out.contains("GPT:") && two.out.contains("P100"), "\(two.err)")
        let three = try runTool("modnas", ["evaluate", "--fronts", "\(dir)/f.csv"])
        #expect(three.status == 0, "\(three.err)")
        // The HV of one point in two objectives exceeds its HV in three (a factor below 1 less).
        func hv(_ out: String) -> Double? { out.split(separator: "\n").first { $0.hasPrefix("P100") }.flatMap { Double($0.split(separator: " ")[4]) } }
        let (h2, h3) = (try #require(hv(two.out)), try #require(hv(three.out)))
        #expect(h2 > h3 && h3 > 0, "\(h2) \(h3)")
        let refused = try runTool("modnas", ["evaluate", "--fronts", "\(dir)/f.csv", "--objectives", "params"])
        #expect(refused.status != 0 && refused.err.contains("holds latency,energy") && refused.err.split(separator: "\n").count == 1, "\(refused.err)")
    }

    @Test func spacesAreRefusedInOneLine() throws {
        let unknown = try runTool("modnas-profile", ["collect", "--host", "--space", "mobilenet"])
        #expect(unknown.status != 0 && unknown.err.contains("mobilenet"), "\(unknown.err)")
        // The GPT space is known, and a mode it does not have is refused in one line; so are a
        // network too large for this host (before a database is created) and another space's shape flag.
        let scratchDir = try scratch()
        for (tool, args, fragment) in [("modnas", ["search", "--space", "gpt", "--accuracy", "supernet"], "trains an NB201 supernet"),
                                       ("modnas", ["search", "--space", "gpt", "--dataset", "cifar10"], "GPT's loss comes from its own benchmark"),
                                       ("modnas-profile", ["collect", "--host", "--space", "gpt", "--batch", "4096", "--sequence-length", "1000000",
                                                           "--db", "\(scratchDir)/big.sqlite"], "lower --batch or --sequence-length"),
                                       ("modnas-profile", ["collect", "--host", "--phase", "decode"], "--phase is not a network shape parameter of space nb201"),
                                       ("modnas", ["export-model", "--space", "ofa", "--channels", "8", "--arch", "x", "--out", "x.onnx"],
                                        "--channels is not a network shape parameter of space ofa")] {
            let r = try runTool(tool, args)
            #expect(r.status != 0 && r.err.contains(fragment) && r.err.split(separator: "\n").count == 1, "\(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(scratchDir)/big.sqlite"))
        // Accuracy modes a space does not have are refused before anything loads.
        let supernet = try runTool("modnas", ["search", "--space", "ofa", "--accuracy", "supernet"])
        #expect(supernet.status != 0 && supernet.err.contains("NB201 supernet") && supernet.err.split(separator: "\n").count == 1, "\(supernet.err)")
        let benchmark = try runTool("modnas", ["search", "--space", "nb201", "--accuracy", "benchmark"])
        #expect(benchmark.status != 0 && benchmark.err.contains("use surrogate"), "\(benchmark.err)")
        let dataset = try runTool("modnas", ["search", "--space", "ofa", "--dataset", "cifar10"])
        #expect(dataset.status != 0 && dataset.err.contains("leave --dataset out"), "\(dataset.err)")
        // OFA features given to the NB201 meta predictor name the space, not the references.
        let predict = try runTool("modnas-predict", ["predict", "--predictor", repositoryPath("Predictors/meta.json"),
                                                     "--device-features", repositoryPath("Profiles/2080ti_1.ofa.json"), "--all"])
        #expect(predict.status != 0 && predict.err.contains("for space 'ofa'") && predict.err.contains("2080ti_1.json"), "\(predict.err)")
        #expect(predict.err.split(separator: "\n").count == 1)
        // An OFA string where an NB201 list is read names the line and the expected form.
        let dir = try scratch()
        try Data("r160_k5e4-k5e4_k5e4-k5e4_k5e4-k5e4_k5e4-k5e4_k5e4-k5e4\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/ofa.txt"))
        let wrong = try runTool("modnas-profile", ["collect", "--host", "--archs", "\(dir)/ofa.txt", "--db", "\(dir)/p.sqlite",
                                                   "--profiles", "\(dir)/P", "--device", "e2e"])
        #expect(wrong.status != 0 && wrong.err.contains("ofa.txt line 1") && wrong.err.contains("NB201"), "\(wrong.err)")
        #expect(wrong.err.split(separator: "\n").count == 1, "\(wrong.err)")
    }

    /// A tiny OFA search from a folder holding feature files of both spaces (only the OFA ones are
    /// taken): fronts with ks, e, d, r for the two settings with predictors and titan_rtx_64
    /// zero-shot, evaluated on the OFA predictor with baselines; fronts for a setting it never saw.
    @Test func anOFASearchThenFrontsForAnUnseenSettingThenEvaluate() throws {
        let dir = try scratch()
        let profiles = "\(dir)/profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        for file in ["2080ti_1.ofa.json", "v100_64.ofa.json", "titan_rtx_64.ofa.json", "pixel3.json"] {
            try FileManager.default.copyItem(atPath: repositoryPath("Profiles/\(file)"), toPath: "\(profiles)/\(file)")
        }
        let out = "\(dir)/search"
        let s = try runTool("modnas", ["search", "--space", "ofa", "--device-features", profiles, "--predictors", repositoryPath("Predictors"),
                                       "--queries", "30", "--epochs", "1", "--steps-per-epoch", "4", "--preferences-per-step", "2",
                                       "--baseline-budget", "5", "--out", out])
        #expect(s.status == 0, "\(s.err)")
        #expect(s.err.contains("2 training devices (2080ti_1, v100_64), 1 zero-shot") && s.err.contains("fixed sample of 10000"), "\(s.err)")
        let fronts = try String(contentsOfFile: "\(out)/fronts.csv", encoding: .utf8).split(separator: "\n")
        #expect(fronts.first == "device,preference_index,r_accuracy,r_latency,arch_index,arch_string,ks,e,d,r,predicted_latency_ms,estimated_test_error_percent")
        #expect(fronts.count == 1 + 3 * 24 && fronts.dropFirst().allSatisfy { $0.contains(",r1") || $0.contains(",r2") })
        let evaluation = try String(contentsOfFile: "\(out)/evaluation.txt", encoding: .utf8)
        #expect(evaluation.contains("OFA accuracy predictor") && evaluation.contains("2080ti_1         predicted")
                && evaluation.contains("titan_rtx_64: not evaluated") && evaluation.contains("NSGA-II"), "\(evaluation)")
        let report = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        #expect(report.contains("<svg") && report.contains("MODNAS search (OFA") && !report.contains("true front"))
        // A setting the search never saw, from its feature file alone.
        var unseen = try String(contentsOfFile: repositoryPath("Profiles/titan_rtx_64.ofa.json"), encoding: .utf8)
        unseen = unseen.replacingOccurrences(of: "\"titan_rtx_64\"", with: "\"my_gpu\"")
        try unseen.write(toFile: "\(dir)/my_gpu.ofa.json", atomically: true, encoding: .utf8)
        let f = try runTool("modnas", ["fronts", "--hypernetwork", "\(out)/hypernetwork.json", "--device-features", "\(dir)/my_gpu.ofa.json",
                                       "--out", "\(dir)/new.csv"])
        #expect(f.status == 0, "\(f.err)")
        let rows = try String(contentsOfFile: "\(dir)/new.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 25 && rows.dropFirst().allSatisfy { $0.hasPrefix("my_gpu,") })
        // NB201 features for an OFA hypernetwork name the space.
        let nb201 = try runTool("modnas", ["fronts", "--hypernetwork", "\(out)/hypernetwork.json", "--device-features", repositoryPath("Profiles/pixel3.json"),
                                           "--out", "\(dir)/x.csv"])
        #expect(nb201.status != 0 && nb201.err.split(separator: "\n").count == 1, "\(nb201.err)")
        // evaluate takes the space from the file's columns; NB201's benchmark refuses it in one line.
        let e = try runTool("modnas", ["evaluate", "--fronts", "\(out)/fronts.csv"])
        #expect(e.status == 0 && e.out.contains("v100_64          predicted"), "\(e.out)\(e.err)")
        let wrong = try runTool("modnas", ["evaluate", "--fronts", "\(out)/fronts.csv", "--benchmark", "nb201"])
        #expect(wrong.status != 0 && wrong.err.split(separator: "\n").count == 1 && wrong.err.contains("line 2"), "\(wrong.err)")
    }
}
