import Foundation
import Testing

@Suite struct ProxyToolTests {
    /// A table-truth rank check prints every estimator beside the baselines, resumes from its rows
    /// (also after a row cut off by a kill), and refuses another run's folder.
    @Test func tableRankCheckResumesAndRefusesOtherSettings() throws {
        let dir = try scratch()
        let args = ["rank-check", "--truth", "table", "--archs", "12", "--estimator", "proxy:synflow,vote:synflow+params", "--resamples", "50",
                    "--channels", "4", "--cells", "1", "--out", "\(dir)/rc"]
        let first = try runTool("modnas", args)
        #expect(first.status == 0, "\(first.err)")
        for name in ["params (baseline)", "flops (baseline)", "proxy:synflow", "vote:synflow+params"] {
            #expect(first.out.contains(name), "\(first.out)")
        }
        let rowsPath = "\(dir)/rc/rows.csv"
        let rows = try String(contentsOfFile: rowsPath, encoding: .utf8)
        #expect(rows.split(separator: "\n").count == 13 && rows.hasPrefix("arch_index,arch_string,truth,params,flops,proxy:synflow,seconds\n"))
        let summary = try String(contentsOfFile: "\(dir)/rc/summary.txt", encoding: .utf8)

        let again = try runTool("modnas", args)
        #expect(again.status == 0 && again.out.contains("resuming: 12 architectures"), "\(again.out)\(again.err)")
        #expect(try String(contentsOfFile: "\(dir)/rc/summary.txt", encoding: .utf8) == summary)

        // A kill during the last row's write leaves it without its line end: it is scored again.
        try String(rows.dropLast(9)).write(toFile: rowsPath, atomically: true, encoding: .utf8)
        let cut = try runTool("modnas", args)
        #expect(cut.status == 0 && cut.out.contains("resuming: 11 architectures"), "\(cut.out)\(cut.err)")
        #expect(try String(contentsOfFile: rowsPath, encoding: .utf8).split(separator: "\n").count == 13)
        #expect(try String(contentsOfFile: "\(dir)/rc/summary.txt", encoding: .utf8) == summary)

        try expectOneLineError("modnas", args.map { $0 == "12" ? "13" : $0 }, "holds a rank check with other settings")
        let damaged = try String(contentsOfFile: rowsPath, encoding: .utf8).replacingOccurrences(of: ",0.", with: ",zero.", options: [], range: nil)
        try damaged.write(toFile: rowsPath, atomically: true, encoding: .utf8)
        try expectOneLineError("modnas", args, "rows.csv line 2")
    }

    /// Each proxy's rank quality on a fixed seeded set: 40 stratified architectures (seed 0),
    /// C = 8, N = 1, 32 Fashion-MNIST images, against NB201's CIFAR-10 table. Today's Spearman ρ
    /// (params 0.885, synflow 0.849, jacob_cov 0.880, snip 0.618, grad_norm 0.539, vote 0.885)
    /// clears each bound by about 0.1; a proxy computed wrongly falls below it.
    @Test func everyProxyRanksTheTableAboveItsBound() throws {
        let dir = try scratch()
        let r = try runTool("modnas", ["rank-check", "--truth", "table", "--archs", "40", "--estimator", "proxies", "--dataset", "fashion-mnist",
                                       "--channels", "8", "--cells", "1", "--batch", "32", "--resamples", "20", "--out", "\(dir)/rc"])
        #expect(r.status == 0, "\(r.err)")
        let bounds = ["params (baseline)": 0.78, "proxy:synflow": 0.75, "proxy:jacob_cov": 0.78, "proxy:snip": 0.5,
                      "proxy:grad_norm": 0.43, "vote:synflow+jacob_cov+snip": 0.78]
        for (estimator, bound) in bounds {
            // "name  archs  τ [lo, hi]  ρ [lo, hi]": ρ follows the first interval's closing bracket.
            let line = r.out.split(separator: "\n").first { $0.hasPrefix(estimator + " ") } ?? ""
            let afterTau = line.split(separator: "]", maxSplits: 1).dropFirst().first ?? ""
            let rho = afterTau.split(separator: " ").first.flatMap { Double($0) }
            #expect(rho != nil && rho! >= bound, "\(estimator): Spearman ρ \(rho.map { "\($0)" } ?? "missing"), bound \(bound)\n\(r.out)")
        }
    }

    /// Stand-alone training as the truth, every proxy on a data set's minibatch.
    @Test func trainingTruthWithEveryProxy() throws {
        let dir = try scratch()
        let r = try runTool("modnas", ["rank-check", "--truth", "training", "--dataset", "synthetic", "--archs", "4", "--estimator", "proxies",
                                       "--channels", "2", "--cells", "1", "--epochs", "1", "--images", "64", "--validation-images", "64",
                                       "--seeds", "1", "--batch", "8", "--resamples", "20", "--out", "\(dir)/rc"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("stand-alone training, 1 epochs over 64 weight images") && r.out.contains("(measured)"), "\(r.out)")
        for p in ["proxy:synflow", "proxy:jacob_cov", "proxy:snip", "proxy:grad_norm", "vote:synflow+jacob_cov+snip"] {
            #expect(r.out.contains(p), "\(p) missing: \(r.out)")
        }
    }

    @Test func badRequestsAreOneLine() throws {
        let dir = try scratch()
        try expectOneLineError("modnas", ["rank-check", "--estimator", "proxy:synfow", "--out", "\(dir)/a"], "unknown proxy 'synfow'")
        try expectOneLineError("modnas", ["rank-check", "--estimator", "oracle", "--out", "\(dir)/a"], "unknown estimator 'oracle'")
        try expectOneLineError("modnas", ["rank-check", "--estimator", "supernet", "--out", "\(dir)/a"], "--estimator supernet needs --search DIR")
        try expectOneLineError("modnas", ["rank-check", "--estimator", "params,supernet+proxy", "--out", "\(dir)/a"], "--estimator supernet+proxy needs --search DIR")
        try expectOneLineError("modnas", ["rank-check", "--archs", "2"], "--archs must be a number ≥ 3 or all")
        try expectOneLineError("modnas", ["rank-check", "--truth", "oracle", "--out", "\(dir)/b"], "--truth oracle")
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(dir)/file"))
        try FileManager.default.createDirectory(atPath: "\(dir)/full", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(dir)/full/other.txt"))
        try expectOneLineError("modnas", ["rank-check", "--truth", "table", "--out", "\(dir)/full"], "not a rank check")
        try expectOneLineError("modnas", ["rank-check", "--truth", "table", "--out", "\(dir)/file"], "is a file; give a folder")
        #expect(try String(contentsOfFile: "\(dir)/file", encoding: .utf8) == "x")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/full/other.txt"))
    }

    /// A proxy-mode search queries no accuracy, says where its estimates come from, and its
    /// hypernetwork gives fronts; a space without a trainable network builder is refused.
    @Test func proxySearchFromAVoteOfProxies() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "silver_4114", "raspi4"], in: dir)
        let r = try runTool("modnas", ["search", "--accuracy", "proxy", "--dataset", "synthetic", "--queries", "12", "--device-features", profiles,
                                       "--predictors", repositoryPath("Predictors"), "--epochs", "2", "--steps-per-epoch", "5", "--baseline-budget", "0",
                                       "--out", "\(dir)/out"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("zero-cost proxy vote (synflow, jacob_cov, snip) of 12 sampled architectures") && r.err.contains("no accuracy queried"), "\(r.err)")
        #expect(r.out.contains("HV with the NB201 benchmark's cifar10 test accuracy"), "\(r.out)")
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/hypernetwork.json"))) as? [String: Any]
        #expect(file?["accuracyMode"] as? String == "proxy")
        let f = try runTool("modnas", ["fronts", "--hypernetwork", "\(dir)/out/hypernetwork.json", "--device-features", "\(profiles)/raspi4.json",
                                       "--out", "\(dir)/raspi4.csv"])
        #expect(f.status == 0, "\(f.err)")
        try expectOneLineError("modnas", ["search", "--space", "ofa", "--accuracy", "proxy", "--out", "\(dir)/ofa"], "no trainable network builder")
    }

    /// supernet+proxy: the supernet's estimates of the K architectures rank-averaged with their
    /// proxy vote, labelled as such; then a rank check of the finished search with the hybrid.
    @Test func supernetPlusProxySearchAndItsRankCheck() throws {
        let dir = try scratch()
        let profiles = try shippedProfiles(["pixel3", "silver_4114"], in: dir)
        let search = ["search", "--accuracy", "supernet+proxy", "--dataset", "synthetic", "--device-features", profiles,
                      "--predictors", repositoryPath("Predictors"), "--channels", "2", "--batch-size", "8", "--training-images", "256",
                      "--test-images", "32", "--epochs", "2", "--warmup-epochs", "1", "--queries", "12", "--validation-images", "32",
                      "--baseline-budget", "0"]
        let r = try runTool("modnas", search + ["--out", "\(dir)/out"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("the mean of the ranks of the supernet's accuracy on the first 32 architecture images of 12 sampled connected architectures")
                && r.err.contains("zero-cost proxy vote (synflow, jacob_cov, snip)") && r.err.contains("epoch 2/2  loss"), "\(r.err)")
        #expect(r.out.contains("collapse") || r.out.contains("connected ones with convolutions"), "\(r.out)")
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/hypernetwork.json"))) as? [String: Any]
        #expect(file?["accuracyMode"] as? String == "supernet+proxy")
        let check = try runTool("modnas", ["rank-check", "--estimator", "supernet+proxy", "--search", "\(dir)/out", "--truth", "table", "--archs", "12",
                                           "--validation-images", "32", "--out", "\(dir)/rc"])
        #expect(check.status == 0 && check.out.contains("supernet+proxy") && check.out.contains("params (baseline)"), "\(check.err)")
        // Another search's supernet is another estimator: its rank check does not resume these rows
        // (the other search's shared kernels are rebuilt from its record, or its weights would not load).
        let other = try runTool("modnas", search + ["--seed", "1", "--shared-kernels", "--out", "\(dir)/out1"])
        #expect(other.status == 0 && other.err.contains("N = 1 (1×1 kernels the centre of the 3×3 ones)"), "\(other.err)")
        try expectOneLineError("modnas", ["rank-check", "--estimator", "supernet+proxy", "--search", "\(dir)/out1", "--truth", "table",
                                          "--archs", "12", "--validation-images", "32", "--out", "\(dir)/rc"], "holds a rank check with other settings")
        try expectOneLineError("modnas", search + ["--supernet-objective", "cross-entropy", "--out", "\(dir)/x"], "fits a surrogate on both estimates")
    }
}
