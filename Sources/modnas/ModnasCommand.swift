import ArgumentParser
import Autodiff
import CommandSupport
import Foundation
import Profiling
import SearchSpaces
import NB201Space

/// `modnas`: the multi-objective differentiable NAS engine.
struct ModnasCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "modnas",
            abstract: "Multi-objective differentiable NAS: one search, a Pareto front for every device.",
            version: versionText,
            subcommands: [SearchRun.self, FrontsRun.self, Evaluate.self, Surrogate.self, RankCheckCommand.self, Benchmark.self, ExportModel.self, Doctor.self, Arch.self])
    }
}

extension ModnasCommand {
    /// Measures sgemm and the reference networks in one run.
    struct Benchmark: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure 1-thread sgemm GFLOP/s and the batch-1 latency of a space's 10 reference networks.")

        @OptionGroup var spaceOption: SpaceOption
        @OptionGroup(title: "Network shape") var shapeOption: ShapeOption
        @Option(help: "Timed forward passes per network.") var repeats = 30
        @Option(help: "Untimed forward passes before timing.") var warmup = 5
        @OptionGroup var threadsOption: ThreadsOption
        @Option(help: "Side of the square sgemm product.") var sgemmSize = 1024
        @Option(name: .customLong("index"), help: "Time only this reference network (its table index; repeatable).")
        var indices: [Int] = []
        @Flag(help: "Instead: supernet training throughput (images/s, share of time in sgemm) at the default supernet configuration.")
        var supernet = false
        @Option(help: "Data set of --supernet: fashion-mnist, idx:DIR, cifar10:DIR or synthetic.") var dataset = "fashion-mnist"
        @Option(help: "Timed weight steps of --supernet.") var steps = 20
        @Option(help: "Architectures per weight step of --supernet (the search samples one per training device).") var architectures = 13
        @Option(help: "Instead: compare the engine with this runtime on the 10 references, interleaved (onnxruntime).") var compare: String?
        @Option(help: "Rounds of --compare (each times every network on both sides).") var rounds = 10

        func validate() throws {
            guard repeats >= 1, warmup >= 0, sgemmSize >= 16, steps >= 1, architectures >= 1 else {
                throw ValidationError("--repeats, --steps and --architectures must be ≥ 1, --warmup ≥ 0, --sgemm-size ≥ 16")
            }
            _ = try shapeOption.searchSpace(spaceOption.space)
        }

        func run() throws {
            if supernet { return try runSupernet() }
            if let compare {
                guard compare == "onnxruntime" else { throw ValidationError("--compare takes onnxruntime (the only other runtime so far), not '\(compare)'") }
                var c = RuntimeComparison.Configuration()
                c.space = spaceOption.space
                c.shape = shapeOption.shape
                c.threads = threadsOption.threads
                c.rounds = rounds
                c.repeatsPerRound = max(repeats / rounds, 1)
                c.warmup = warmup
                let interactive = standardErrorIsTerminal
                print(try RuntimeComparison(configuration: c).run { if interactive { printToStandardError("  \($0)") } }.table)
                return
            }
            var c = EngineBenchmark.Configuration()
            c.repeats = repeats
            c.warmup = warmup
            c.threads = threadsOption.threads
            c.sgemmSize = sgemmSize
            c.space = spaceOption.space
            c.shape = shapeOption.shape
            c.onlyIndices = Set(indices)
            let interactive = standardErrorIsTerminal
            let report = try EngineBenchmark(configuration: c).run { line in
                if interactive { printToStandardError("  \(line)") }
            }
            print(report.table)
        }
    }

    /// Shows what the tools run on.
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the CPU, the OpenBLAS core in use and why, and the data the tools ship.")

        func run() throws {
            let status = OpenBLASCoreSelection.status
            let flags = OpenBLASCoreSelection.cpuFlags()
            let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
            let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
                .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
            print("modnas \(modnasVersion)")
            print("CPU: \(model), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            print("vector ISA: \(["avx512f", "avx2", "fma", "avx"].filter(flags.contains).joined(separator: " "))")
            print("engine kernels: \(CPUKernels.description())")
            print("OpenBLAS core: \(status.summary)")
            print("OpenBLAS best core for this CPU: \(status.supportedCore ?? "generic")")
            print("OpenBLAS threads: \(OpenBLAS.threadCount); build: \(OpenBLAS.configuration)")
            let index = try NB201Index.shipped()
            print("NB201 index: \(index.architectures.count) architectures")
        }
    }

    /// Inspects one architecture.
    struct Arch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an NB201 architecture's official index, string, cost and encoding.")

        @Argument(help: "An NB201 architecture string or official index (0…15624).") var architecture: String

        func run() throws {
            let index = try NB201Index.shipped()
            let arch: NB201Architecture
            if let i = Int(architecture) {
                guard (0..<index.architectures.count).contains(i) else {
                    throw ValidationError("index \(i) is outside 0…15624")
                }
                arch = index[i]
            } else {
                arch = try NB201Architecture(parsing: architecture)
            }
            let cost = ArchitectureCost(arch)
            print("index: \(index.index(of: arch))")
            print("arch_string: \(arch.string)")
            print("MFLOPs (multiply-accumulates, NB201 convention): \(Double(cost.multiplyAccumulates) / 1e6)")
            print("parameters: \(cost.parameters)")
            print("one-hot: \(arch.oneHotEncoding.map { String(Int($0)) }.joined())")
        }
    }
}
