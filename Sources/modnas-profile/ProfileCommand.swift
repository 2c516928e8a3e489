import ArgumentParser
import CommandSupport
import DataFiles
import DeviceModel
import Foundation
import Measurements
import ProfileStore
import Profiling
import SearchSpaces
import Statistics

/// `modnas-profile`: the on-device profiler agent.
struct ProfileCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "modnas-profile",
            abstract: "Profile this host: latency, counters and energy of search-space subnetworks (NB201, OFA MobileNetV3) into SQLite.",
            version: versionText,
            subcommands: [Collect.self, Import.self, Devices.self, Features.self, Export.self, Merge.self, Stability.self])
    }
}

extension EnergyMode: ExpressibleByArgument {}
extension LatencyClock: ExpressibleByArgument {}
extension Runtime: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

extension ProfileCommand {
    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure this host: the 10 reference architectures, then sampled or listed ones (resumable).")

        @Flag(help: "Profile this host (the only target so far).") var host = false
        @OptionGroup var dbOption: DatabaseOption
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Architectures to sample uniformly (seeded) after the references.") var samples = 20
        @Option(help: "File of architectures: CSV with an arch_string column (OFA: or ks,e,d,r), or one string per line.") var archs: String?
        @Option(help: "Timed forward passes per architecture, in total over all rounds.") var repeats = 20
        @Option(help: "Visits of the whole plan that share the repetitions (spreads each architecture over the run).") var rounds = 4
        @Option(help: "Untimed passes before timing.") var warmup = 3
        @Option(help: "Inputs per forward pass (images, or GPT sequences).") var batch = 1
        @OptionGroup var threadsOption: ThreadsOption
        @Option(help: "Comma-separated libpfm4/perf event names.") var events = EventEncoder.defaultEvents.joined(separator: ",")
        @Option(help: "Energy source: auto, rapl, perf or off.") var energy = EnergyMode.auto
        @Option(help: "Device name (default: this host's name): \(DeviceName.rule).") var device: String?
        @Option(help: "Folder for the device feature file (<device>.json for NB201, <device>.<space>.json otherwise).") var profiles = "Profiles"
        @Flag(help: "Let this host take a benchmark device's name and replace its feature file.") var force = false
        @Option(help: "Measure only shard i of n of the sampled/listed architectures (e.g. 0/4).") var shard = "0/1"
        @Option(help: "Seed of the sample.") var seed: UInt64 = 0
        @Option(help: "Pin the measuring thread to these CPUs (e.g. 1 or 0-3,6).") var pin: String?
        @OptionGroup(title: "Network shape (part of the device's identity, like the runtime)") var shapeOption: ShapeOption
        @Option(help: "Coefficient of variation above which an architecture is measured again.") var unstableCv = 0.1
        @Option(help: "Percent of the plan measured again at the end, in a fresh order, for the session's repeatability (at least 10 architectures; 0: off).")
        var recheck = 10.0
        @Option(help: "Which clock is the device's latency: wall (what a user of a dedicated device waits) or cpu (the measuring thread's CPU time, which repeats better on a shared or virtualised host). Both are stored.")
        var latency = LatencyClock.wall
        @Option(help: "After the rounds, measure an architecture again until the 95 % bootstrap interval of its median is within ± this percent (0: off).")
        var targetCi = 2.0
        @Option(help: "Milliseconds of timed passes per architecture after which the adaptive rounds stop (also at 10 × --repeats repetitions).")
        var timeBudget = 1000.0
        @Option(help: "What runs the networks: engine (modnas's own), or onnxruntime (the exported deployed graph in ONNX Runtime, in a worker process; the device is then <host>-onnxruntime).")
        var runtime = Runtime.engine

        func validate() throws {
            guard host else { throw ValidationError("collect needs --host (profiling this host is the only mode)") }
            guard samples >= 0, repeats >= 1, warmup >= 0, batch >= 1, rounds >= 1, rounds <= repeats else {
                throw ValidationError("--samples and --warmup must be ≥ 0; --repeats, --rounds and --batch ≥ 1; --rounds ≤ --repeats")
            }
            _ = try shapeOption.searchSpace(spaceOption.space)
            try requireFinite("--unstable-cv", unstableCv, atLeast: 0)
            try requireFinite("--recheck", recheck, atLeast: 0)
            guard recheck <= 100 else { throw ValidationError("--recheck is a percentage of the plan: 0…100") }
            try requireFinite("--target-ci", targetCi, atLeast: 0)
            try requireFinite("--time-budget", timeBudget, atLeast: 0)
        }

        func run() throws {
            var o = CollectOptions()
            o.space = spaceOption.space
            o.samples = samples
            o.architectureFile = archs
            o.settings = MeasurementSettings(repeats: repeats, warmup: warmup, batch: batch,
                                             shape: shapeOption.shape,
                                             unstableCV: unstableCv)
            o.rounds = rounds
            o.threads = threadsOption.threads
            o.events = events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            o.energy = energy
            o.device = device
            o.profilesDirectory = profiles
            o.force = force
            o.shard = try Shard(parsing: shard)
            o.seed = seed
            o.pinnedCPUs = try pin.map(parseCPUList)
            o.recheckPercent = recheck
            o.latency = latency
            o.targetCI = targetCi / 100
            o.budgetMs = timeBudget
            o.runtime = runtime
            let terminal = standardErrorIsTerminal
            let collector = Collector(options: o) { try ProfileDatabase(path: dbOption.db) }
            let summary = try collector.run(warn: { printToStandardError("warning: \($0)") }) { p in
                guard terminal else { return }
                let eta = p.etaSeconds.map { String(format: "ETA %d:%02d", Int($0) / 60, Int($0) % 60) } ?? "ETA --:--"
                FileHandle.standardError.write(Data(
                    "\r\u{1B}[K[\(p.done + 1)/\(p.total)] round \(p.round)/\(p.rounds) \(eta)  \(p.current.role) \(p.current.index.map(String.init) ?? "—") \(p.current.string)".utf8))
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print(summary.table)
            if let warning = summary.clockWarning { printToStandardError("warning: \(warning)") }
        }

        /// Parses "1", "0-3" or "0-3,6".
        func parseCPUList(_ text: String) throws -> [Int] {
            var cpus: [Int] = []
            for part in text.split(separator: ",") {
                let bounds = part.split(separator: "-").map { Int($0) }
                switch bounds.count {
                case 1: if let a = bounds[0] { cpus.append(a); continue }
                case 2: if let a = bounds[0], let b = bounds[1], a <= b { cpus += Array(a...b); continue }
                default: break
                }
                throw ProfilingError.badCPUList(text)
            }
            guard !cpus.isEmpty else { throw ProfilingError.badCPUList(text) }
            return cpus
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the shipped benchmark tables (Devices/) as benchmark devices: latency, and energy where the benchmark has it (GPT).")

        @OptionGroup var dbOption: DatabaseOption
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Device table (arch_index, the space's architecture columns, per device <device> in ms or <device>_latency_ms and <device>_energy_j; default: the space's shipped table).")
        var table: String?
        @Option(help: "Device feature table (device, ref<k>_ms or ref<k>_latency_ms and ref<k>_energy_j; default: the space's shipped table).") var features: String?

        func run() throws {
            let space = spaceOption.space
            let database = try ProfileDatabase(path: dbOption.db)
            let shipped = space.space.shippedBenchmark
            func read(_ path: String?, _ shippedPath: String) throws -> CSVTable {
                try CSVTable(contentsOf: path ?? ShippedData.path(shippedPath))
            }
            let counts = try database.importBenchmark(space: space.space, latencyTable: try read(table, shipped.deviceTable),
                                                      featureTable: try read(features, shipped.featureTable))
            print("imported \(counts.devices) new benchmark devices, \(counts.sessions) sessions, \(counts.measurements) measurements of space \(space) into \(dbOption.db)")
        }
    }

    /// The repeatability checks stored with a device's sessions.
    struct Stability: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How well a device's profiles repeat: the check each collect session stored (a subset measured again in a fresh order), or the agreement with another run's database.")

        @OptionGroup var dbOption: DatabaseOption
        @Option(help: "Device name.") var device: String
        @Option(help: "Another database of the same device (a separate collect run): compare its medians with --db's instead.") var against: String?
        @OptionGroup var spaceOption: SpaceOption

        func run() throws {
            let database = try ProfileDatabase(path: dbOption.db, readOnly: true)
            if let against {
                let other = try ProfileDatabase(path: against, readOnly: true)
                let space = spaceOption.space.rawValue
                guard let r = Repeatability.between(try database.latestMedians(device: device, space: space),
                                                    try other.latestMedians(device: device, space: space)) else {
                    throw ValidationError("\(dbOption.db) and \(against) share fewer than 3 architectures of \(device) in \(space); collect the same plan in both")
                }
                print("\(r.count) architectures in both databases: \(r.description)")
                return
            }
            let checks = try database.repeatability(device: device)
            guard !checks.isEmpty else {
                throw ValidationError("no session of \(device) in \(dbOption.db) stored a repeatability check; collect with --recheck 10 (the default) to store one")
            }
            for c in checks {
                print("session \(c.session) (\(ISO8601DateFormatter().string(from: c.startedAt))): \(c.check.description)")
            }
        }
    }

    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices by space with their sources and counts.")

        @OptionGroup var dbOption: DatabaseOption

        func run() throws {
            let database = try ProfileDatabase(path: dbOption.db, readOnly: true)
            var references: [String: [String]] = [:]
            for space in SpaceName.allCases { references[space.rawValue] = try space.space.referenceStrings().map(\.string) }
            let rows = try database.deviceSummaries(referenceStrings: references)
            print("space  device              source     sessions  archs  measurements  unstable  references")
            for r in rows {
                print([(r.space ?? "—").padding(toLength: 6, withPad: " ", startingAt: 0),
                       r.name.padding(toLength: 19, withPad: " ", startingAt: 0), r.source.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                       String(r.sessions).leftPadded(8), String(r.architectures).leftPadded(6), String(r.measurements).leftPadded(13),
                       String(r.unstable).leftPadded(9), r.hasReferences ? "  all 10" : "  incomplete"].joined(separator: " "))
            }
        }
    }

    struct Features: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a device's feature vector of a space to DIR (<device>.json for NB201, <device>.<space>.json otherwise).")

        @OptionGroup var dbOption: DatabaseOption
        @Option(help: "Device name.") var device: String
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Output folder.") var out = "Profiles"

        func run() throws {
            let space = spaceOption.space
            let features = try ProfileDatabase(path: dbOption.db, readOnly: true).features(device: device, space: space.rawValue,
                                                                                   references: try space.space.referenceStrings())
            print(try features.write(toDirectory: out))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export one row per device × architecture × session, with statistics, counters and energy.")

        @OptionGroup var dbOption: DatabaseOption
        @Option(help: "Only this device.") var device: String?
        @Option(help: "csv or json.") var format = ExportFormat.csv
        @Option(help: "Output file (default: standard output).") var out: String?

        func run() throws {
            let text = try format.render(try ProfileDatabase(path: dbOption.db, readOnly: true).exportRows(device: device))
            if let out {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } else {
                print(text, terminator: "")
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge databases from several hosts into one (idempotent: merging twice changes nothing).")

        @Option(help: "Database to merge into (created if missing).") var into: String
        @Argument(help: "Databases to merge from.") var inputs: [String]

        func validate() throws {
            guard !inputs.isEmpty else { throw ValidationError("give at least one database to merge from") }
        }

        func run() throws {
            let target = try ProfileDatabase(path: into)
            for input in inputs {
                let c = try target.merge(from: input)
                print("\(input): \(c.devices) devices, \(c.sessions) sessions, \(c.measurements) measurements added, \(c.completed) completed with later rounds")
            }
        }
    }
}
