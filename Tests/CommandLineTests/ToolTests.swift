import ArgumentParser
import Foundation
import Synchronization
import Testing
@testable import modnas

/// Runs a built tool and captures its exit status, stdout and stderr.
func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = try builtTool(name)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes are drained at once: reading one to its end while the tool blocks on a full
    // other pipe (a long stderr) would deadlock.
    let errData = Mutex(Data())
    let errRead = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        let data = err.fileHandleForReading.readDataToEndOfFile()
        errData.withLock { $0 = data }
        errRead.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errRead.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.withLock { $0 }, as: UTF8.self))
}

/// A folder `dir/profiles` holding the shipped feature files of `devices`; its path.
func shippedProfiles(_ devices: [String], in dir: String) throws -> String {
    let profiles = "\(dir)/profiles"
    try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
    for device in devices {
        try FileManager.default.copyItem(atPath: repositoryPath("Profiles/\(device).json"), toPath: "\(profiles)/\(device).json")
    }
    return profiles
}

/// The executable `name` built next to the test bundle.
func builtTool(_ name: String) throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    struct NotBuilt: Error, CustomStringConvertible { let description: String }
    throw NotBuilt(description: "\(name) is not built next to \(CommandLine.arguments[0]); run swift build first")
}

@Suite struct CommandParsingTests {
    @Test func benchmarkOptionsAreValidated() throws {
        #expect(throws: (any Error).self) { try ModnasCommand.parseAsRoot(["benchmark", "--repeats", "0"]) }
        let parsed = try ModnasCommand.parseAsRoot(["benchmark", "--repeats", "3", "--index", "1462", "--index", "9"])
        let benchmark = try #require(parsed as? ModnasCommand.Benchmark)
        #expect(benchmark.repeats == 3 && benchmark.indices == [1462, 9])
    }

    @Test func archTakesAStringOrAnIndex() throws {
        let parsed = try ModnasCommand.parseAsRoot(["arch", "1462"])
        #expect((parsed as? ModnasCommand.Arch)?.architecture == "1462")
    }
}

@Suite(.serialized) struct BuiltToolTests {
    @Test func malformedArchitectureIsOneLineWithTheFormat() throws {
        let r = try runTool("modnas", ["arch", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|conv_7x7~2|"])
        #expect(r.status != 0)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1, "\(r.err)")
        #expect(r.err.contains("unknown operation 'conv_7x7'") && r.err.contains("|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"))
        #expect(!r.err.contains("Usage"))
    }

    @Test func archReportsIndexAndCost() throws {
        let r = try runTool("modnas", ["arch", "1462"])
        #expect(r.status == 0)
        #expect(r.out.contains("parameters: 1531546"))
        #expect(r.out.contains("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"))
        let bad = try runTool("modnas", ["arch", "20000"])
        #expect(bad.status != 0 && bad.err.split(separator: "\n").count == 1)
    }

    @Test func versionShowsTheOpenBLASCore() throws {
        let r = try runTool("modnas", ["--version"])
        #expect(r.status == 0 && r.out.contains("OpenBLAS core"))
        let user = try runTool("modnas", ["--version"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(user.out.contains("Haswell (OPENBLAS_CORETYPE set by the user)"), "\(user.out)")
    }

    @Test func selfTestChildChecksTheRequestedCore() throws {
        let ok = try runTool("modnas", [], environment: ["OPENBLAS_CORETYPE": "Haswell", "MODNAS_OPENBLAS_SELFTEST": "1"])
        #expect(ok.status == 0)
        // A core OpenBLAS does not know falls back to another: the self-test must refuse it.
        let bogus = try runTool("modnas", [], environment: ["OPENBLAS_CORETYPE": "NoSuchCore", "MODNAS_OPENBLAS_SELFTEST": "1"])
        #expect(bogus.status != 0)
    }

    @Test func everyToolAnswersHelp() throws {
        for tool in ["modnas", "modnas-profile", "modnas-predict"] {
            let r = try runTool(tool, ["--help"])
            #expect(r.status == 0 && r.out.contains("USAGE"), "\(tool): \(r.err)")
        }
        let unknown = try runTool("modnas", ["--no-such-flag"])
        #expect(unknown.status != 0 && unknown.err.split(separator: "\n").count == 1)
    }

    @Test func benchmarkPrintsFiguresAndRatios() throws {
        let r = try runTool("modnas", ["benchmark", "--repeats", "1", "--warmup", "0", "--sgemm-size", "64", "--index", "1462", "--index", "55"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("sgemm 64×64×64: median"))
        let rows = r.out.split(separator: "\n").filter { $0.contains(" %") && ($0.contains("1462") || $0.contains(" 55 ")) }
        #expect(rows.count == 2, "\(r.out)")
    }
}

/// Expects `tool args` to fail with one line of standard error that contains `fragment`.
func expectOneLineError(_ tool: String, _ args: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let r = try runTool(tool, args)
    #expect(r.status != 0, sourceLocation: sourceLocation)
    #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(fragment), "\(r.err)", sourceLocation: sourceLocation)
}
