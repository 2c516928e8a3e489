import Foundation
import Testing

/// The repository root (tests run from the checkout).
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

@Suite(.serialized) struct PredictorToolTests {
    let meta = repositoryPath("Predictors/meta.json")

    @Test func shippedMetaPredictorPredictsAnUnseenDevice() throws {
        let dir = try scratch()
        let archs = "\(dir)/archs.txt"
        try Data("""
            |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|
            |none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|
            """.utf8).write(to: URL(fileURLWithPath: archs))
        // raspi4 is a test device: the meta predictor never saw its latencies.
        let r = try runTool("modnas-predict", ["predict", "--predictor", meta, "--device-features", repositoryPath("Profiles/raspi4.json"),
                                               "--archs", archs])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.first == "arch_index,arch_string,predicted_latency_ms" && lines.count == 3)
        let ms = lines.dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
        #expect(ms.count == 2 && ms.allSatisfy { $0 > 0 && $0.isFinite } && ms[0] > ms[1], "\(ms)")
    }

    @Test func badInputIsOneLine() throws {
        let dir = try scratch()
        func expectOneLineError(_ args: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try runTool("modnas-predict", args)
            #expect(r.status != 0, sourceLocation: sourceLocation)
            #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(fragment), "\(r.err)", sourceLocation: sourceLocation)
        }
        var features = try String(contentsOfFile: repositoryPath("Profiles/raspi4.json"), encoding: .utf8)
        features = features.replacingOccurrences(of: "\"values\" : [", with: "\"values\" : [ 1.0,")
        try features.write(toFile: "\(dir)/eleven.json", atomically: true, encoding: .utf8)
        try expectOneLineError(["predict", "--predictor", meta, "--device-features", "\(dir)/eleven.json", "--all"], "11 values")
        let old = try String(contentsOfFile: meta, encoding: .utf8).replacingOccurrences(of: "modnas.predictor.v1", with: "modnas.predictor.v9")
        try old.write(toFile: "\(dir)/old.json", atomically: true, encoding: .utf8)
        try expectOneLineError(["predict", "--predictor", "\(dir)/old.json", "--device-features", repositoryPath("Profiles/raspi4.json"), "--all"],
                               "modnas.predictor.v9")
        try expectOneLineError(["predict", "--predictor", meta, "--device-features", repositoryPath("Profiles/raspi4.json")],
                               "exactly one of --all and --archs")
        try expectOneLineError(["train", "--kind", "forest"], "Please provide one of 'mlp' and 'meta'")
        // Features that parse but do not fit: references in another order, a latency of 1e300.
        let raspi = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryPath("Profiles/raspi4.json")))) as! [String: Any]
        var reversed = raspi, huge = raspi
        reversed["reference_arch_indices"] = (raspi["reference_arch_indices"] as! [Int]).reversed().map { $0 }
        huge["values"] = [1e300] + (raspi["values"] as! [Double]).dropFirst()
        try JSONSerialization.data(withJSONObject: reversed).write(to: URL(fileURLWithPath: "\(dir)/reversed.json"))
        try JSONSerialization.data(withJSONObject: huge).write(to: URL(fileURLWithPath: "\(dir)/huge.json"))
        try expectOneLineError(["predict", "--predictor", meta, "--device-features", "\(dir)/reversed.json", "--all"], "use reference architectures")
        try expectOneLineError(["predict", "--predictor", meta, "--device-features", "\(dir)/huge.json", "--all"], "finite milliseconds")
        // A read command does not create the database it is asked to read.
        try expectOneLineError(["eval", "--predictor", meta, "--db", "\(dir)/missing.sqlite", "--device", "x"], "no such file")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/missing.sqlite"))
    }
}
