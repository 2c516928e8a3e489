import Foundation
import Testing
import TestSupport

/// Runs a repository script with bash; status and both outputs.
func runScript(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    try runBash([repositoryPath(script)] + arguments, environment: environment)
}

/// Runs bash with `arguments`; status and both outputs.
func runBash(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = URL(fileURLWithPath: Scratch.path("modnas-script", suffix: ".out"))
    let err = URL(fileURLWithPath: Scratch.path("modnas-script", suffix: ".err"))
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
    // Files, not pipes: the cluster's daemons inherit the descriptors and outlive the script.
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
}

/// Polls `condition` every 0.5 s for up to `seconds`.
func waitFor(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.5)
    }
    return try condition()
}

@Suite(.serialized) struct FleetTests {
    /// A one-node Slurm cluster (munged, slurmctld, slurmd under a temporary folder) runs
    /// `scripts/slurm-profile` with 4 shards of 8 listed architectures; one array task is
    /// cancelled, so the merge waits; resubmitting that task completes the set, and the merged
    /// database holds every listed architecture once and the references once per shard.
    @Test func aSlurmArrayProfilesShardsAndAResubmittedTaskCompletesTheMerge() throws {
        let dir = try scratch()
        let cluster = "\(dir)/cluster", fleet = "\(dir)/fleet"
        let started = try runScript("scripts/slurm-local-cluster", ["start", cluster])
        guard started.status == 0 else {
            Issue.record("the one-node Slurm cluster did not start: \(started.err)")
            return
        }
        defer { _ = try? runScript("scripts/slurm-local-cluster", ["stop", cluster]) }
        let env = ["SLURM_CONF": "\(cluster)/slurm.conf", "MODNAS_BIN": try builtTool("modnas-profile").deletingLastPathComponent().path]
        func slurm(_ command: String) throws -> String {
            let r = try runBash(["-c", command], environment: env)
            return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let listed = [
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
            "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
            "|skip_connect~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|skip_connect~1|none~2|",
            "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|",
            "|none~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|avg_pool_3x3~2|",
            "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|",
            "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|",
        ]
        try (listed.joined(separator: "\n") + "\n").write(toFile: "\(dir)/archs.txt", atomically: true, encoding: .utf8)
        let collect = ["--", "--archs", "\(dir)/archs.txt", "--samples", "0", "--repeats", "3", "--warmup", "1", "--rounds", "1"]
        let submitted = try runScript("scripts/slurm-profile", ["--out", fleet, "--shards", "4"] + collect, environment: env)
        #expect(submitted.status == 0, "\(submitted.err)")
        let array = try String(contentsOfFile: "\(fleet)/array.jobid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let merge = try String(contentsOfFile: "\(fleet)/merge.jobid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // Tasks run one per node at a time (--exclusive), so task 3 is still pending here.
        _ = try slurm("scancel \(array)_3")
        #expect(try waitFor(seconds: 180) { try slurm("squeue -h -j \(array)").isEmpty }, "the array did not finish")
        #expect(!FileManager.default.fileExists(atPath: "\(fleet)/shards/\(try slurm("hostname -s"))-3.sqlite"), "task 3 ran before it was cancelled")
        // The merge waits (its dependency can no longer be met) instead of merging a partial set.
        let waiting = try slurm("squeue -h -o '%T %r' -j \(merge)")
        #expect(waiting.hasPrefix("PENDING Dependency"), "\(waiting)")
        #expect(!FileManager.default.fileExists(atPath: "\(fleet)/merge.done"))

        let resubmitted = try runScript("scripts/slurm-profile", ["--out", fleet, "--shards", "4", "--tasks", "3"] + collect, environment: env)
        #expect(resubmitted.status == 0, "\(resubmitted.err)")
        #expect(try waitFor(seconds: 180) { FileManager.default.fileExists(atPath: "\(fleet)/merge.done") },
                "the merge did not finish: \((try? String(contentsOfFile: "\(fleet)/logs/merge.out", encoding: .utf8)) ?? "no log")")
        #expect(try slurm("squeue -h -j \(merge)").isEmpty, "the stale merge job is still queued")

        let node = try slurm("hostname -s")
        #expect(FileManager.default.fileExists(atPath: "\(fleet)/profiles/\(node).json"))
        let export = try runTool("modnas-profile", ["export", "--db", "\(fleet)/profiles.sqlite"])
        #expect(export.status == 0, "\(export.err)")
        let lines = export.out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0], rows = lines.dropFirst()
        let at = { (name: String) in header.firstIndex(of: name)! }
        let byString = Dictionary(grouping: rows) { $0[at("arch_string")] }
        let references = Set(rows.filter { $0[at("role")] == "reference" }.map { $0[at("arch_string")] })
        #expect(references.count == 10 && Set(byString.keys) == references.union(listed))
        #expect(listed.allSatisfy { byString[$0]?.count == 1 }, "\(listed.map { byString[$0]?.count ?? 0 })")
        #expect(references.allSatisfy { byString[$0]?.count == 4 } && Set(rows.map { $0[at("session")] }).count == 4)
        #expect(Set(rows.map { $0[at("device")] }) == [node])
    }

    /// The Indexed Job manifest of docs/fleet.md parses as YAML and shards by the completion index.
    @Test func theKubernetesManifestParsesAndShardsByTheCompletionIndex() throws {
        let doc = try String(contentsOfFile: repositoryPath("docs/fleet.md"), encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count == 1)
        let dir = try scratch()
        try blocks[0].write(toFile: "\(dir)/job.yaml", atomically: true, encoding: .utf8)
        // PyYAML (Debian's python3-yaml): the manifest's fields as one JSON object.
        let check = """
            import json, sys, yaml
            docs = list(yaml.safe_load_all(open(sys.argv[1])))
            job = docs[0]
            pod = job["spec"]["template"]["spec"]
            print(json.dumps({"documents": len(docs), "kind": job["kind"], "mode": job["spec"]["completionMode"],
                              "completions": job["spec"]["completions"], "args": pod["containers"][0]["args"][0],
                              "restart": pod["restartPolicy"]}))
            """
        let r = try runBash(["-c", "python3 -c \"$0\" \"$1\"", check, "\(dir)/job.yaml"])
        #expect(r.status == 0, "the manifest does not parse (python3 with PyYAML: apt-get install python3-yaml): \(r.err)")
        guard r.status == 0 else { return }
        let fields = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(fields["documents"] as? Int == 1 && fields["kind"] as? String == "Job" && fields["mode"] as? String == "Indexed")
        #expect(fields["restart"] as? String == "Never")
        let args = fields["args"] as? String ?? ""
        #expect(args.contains("--shard \"$JOB_COMPLETION_INDEX/\(fields["completions"] as? Int ?? -1)\"") && args.contains("--device \"$NODE_NAME\""), "\(args)")
    }
}
