import ArgumentParser
import Autodiff
import DataFiles
import Datasets
import Foundation
import Predictors
import ProfileStore
import Reports
import Search
import SearchSpaces

/// Progress lines on standard error.
func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

/// `path` as given when it exists, else the shipped folder of that name (so the defaults
/// `Profiles` and `Predictors` work from any directory).
func existingOrShipped(_ path: String) -> String {
    FileManager.default.fileExists(atPath: path) || path.hasPrefix("/") ? path : (try? ShippedData.path(path)) ?? path
}

func minutesAndSeconds(_ seconds: Double) -> String { String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }

extension ModnasCommand {
    /// One search, fronts for every device.
    struct SearchRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Train the MODNAS hypernetwork across the training devices; write fronts for every device, the hypernetwork, a log and a report.")

        @Option(help: "Device feature files (a folder of <device>.json, or one file).") var deviceFeatures = "Profiles"
        @Option(help: "Folder of latency predictors: meta.json and per-device files (mlp-<device>.json).") var predictors = "Predictors"
        @Option(help: "The meta predictor (default: <predictors>/meta.json).") var predictor: String?
        @Option(help: "surrogate (accuracy predictor on --queries NB201 architectures) or supernet.") var accuracy = "surrogate"
        @Option(help: "Profile database: devices with enough measurements and no predictor train with an adapted meta predictor.") var db: String?
        @Option(name: .customLong("hold-out"), help: "Treat this device as unseen: fronts only, from its features (repeatable).") var heldOut: [String] = []
        @Option(help: "Accuracy-query budget K of the surrogate mode.") var queries = 200
        @Option(help: "NB201 accuracy column: cifar10, cifar100 or imagenet16_120.") var dataset = "cifar10"
        @Option(help: "Regressors averaged in the accuracy surrogate.") var surrogateEnsemble = 3
        @Option(help: "Epochs of --steps-per-epoch hypernetwork steps.") var epochs = 20
        @Option(help: "Hypernetwork steps per epoch (each visits every training device).") var stepsPerEpoch = 100
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Preference vectors drawn per training device and step.") var preferencesPerStep = 8
        @Option(help: "Hypernetwork Adam learning rate (0: the paper's 3e-4 × training devices).") var learningRate: Float = 1e-3
        @Option(help: "Hypernetwork Adam L2 weight decay (the paper uses 0.09).") var weightDecay: Float = 0
        @Option(help: "Combine per-device gradients by min-norm (MGD) or mean (ablation).") var combination = "min-norm"
        @Flag(help: "Keep the learning rate constant (default: cosine decay to 1 %).") var constantLearningRate = false
        @Option(help: "Entropy bonus on softmax(α) at the start, decaying to 0 (0: off).") var entropyWeight: Float = 0.01
        @Option(help: "Architectures each baseline may query per benchmark device (0: no baselines).") var baselineBudget = 200
        @Option(help: "Seed of the queries, sampling and hypernetwork.") var seed: UInt64 = 0
        @Option(help: "Output folder.") var out = "modnas-search"
        @Flag(help: "Also score, as a yardstick, the exhaustive optimum of the search's objectives per preference (enumerates NB201).")
        var exhaustive = false

        func validate() throws {
            guard accuracy == "surrogate" || accuracy == "supernet" else { throw ValidationError("--accuracy must be surrogate or supernet") }
            guard combination == "min-norm" || combination == "mean" else { throw ValidationError("--combination must be min-norm or mean") }
            guard queries >= 10, queries <= NB201Architecture.spaceSize else { throw ValidationError("--queries must be in 10…15625") }
            guard epochs >= 1, stepsPerEpoch >= 1, preferences >= 2, baselineBudget >= 0 else {
                throw ValidationError("--epochs and --steps-per-epoch must be ≥ 1, --preferences ≥ 2, --baseline-budget ≥ 0")
            }
        }

        func run() throws {
            guard accuracy == "surrogate" else {
                throw ValidationError("--accuracy supernet is not available yet; use --accuracy surrogate")
            }
            let started = Date()
            let index = try NB201Index.shipped()
            let benchmark = try NB201Benchmark.shipped(index: index, dataset: dataset)
            let features = try DeviceFeatures.loadAll(existingOrShipped(deviceFeatures))
            let database = try db.map { try ProfileDatabase(path: $0, readOnly: true) }
            let catalog = try DeviceCatalog(features: features, predictorDirectory: existingOrShipped(predictors), metaPredictor: predictor,
                                            database: database, index: index, heldOut: Set(heldOut), progress: note)
            guard catalog.devices.contains(where: \.isTraining) else { throw SearchError.noTrainingDevices(directory: deviceFeatures) }

            var c = SearchConfiguration()
            c.epochs = epochs
            c.stepsPerEpoch = stepsPerEpoch
            c.preferences = preferences
            c.preferencesPerStep = preferencesPerStep
            c.learningRate = learningRate > 0 ? learningRate : nil
            c.weightDecay = weightDecay
            c.combination = combination
            c.cosineSchedule = !constantLearningRate
            c.entropyWeight = entropyWeight
            c.surrogateEnsemble = surrogateEnsemble
            c.seed = seed
            c.accuracyQueries = queries
            c.dataset = dataset
            let training = catalog.devices.filter(\.isTraining)
            note("modnas search: \(training.count) training devices (\(training.map(\.name).joined(separator: ", "))), "
                 + "\(catalog.devices.count - training.count) zero-shot; accuracy surrogate on K = \(queries) queried architectures "
                 + "(\(benchmark.errorSource)); \(epochs) epochs × \(stepsPerEpoch) steps; seed \(seed)")

            let search = try MODNASSearch(devices: catalog.devices,
                                          surrogate: benchmark.surrogate(queries: queries, seed: seed, ensembleSize: c.surrogateEnsemble),
                                          configuration: c)
            search.run { log, left in
                let generator = FrontGenerator(hypernetwork: search.hypernetwork, surrogate: search.surrogate)
                let rows = training.flatMap { generator.front(for: $0, preferences: preferences, index: index) }
                log.benchmarkHypervolume = FrontEvaluation.meanBenchmarkHypervolume(rows, benchmark: benchmark)
                note(String(format: "epoch %d/%d  loss %.4f  HV predicted %.4f", log.epoch, epochs, log.meanLoss, log.predictedHypervolume)
                     + (log.benchmarkHypervolume.map { String(format: "  HV benchmark %.4f", $0) } ?? "")
                     + "  elapsed \(minutesAndSeconds(log.seconds))  ETA \(minutesAndSeconds(left))")
            }
            let log = search.log
            if exhaustive {
                let rows = training.flatMap { search.exhaustiveFront(for: $0, preferences: preferences, index: index) }
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try Fronts.write(rows, to: (out as NSString).appendingPathComponent("exhaustive-fronts.csv"))
                note("exhaustive optimum of the search's objectives, scored on the benchmark:")
                note(FrontEvaluation.table(FrontEvaluation.evaluate(rows, benchmark: benchmark).results, missing: [:]))
            }
            let generator = FrontGenerator(hypernetwork: search.hypernetwork, surrogate: search.surrogate)
            let rows = catalog.devices.flatMap { generator.front(for: $0, preferences: preferences, index: index) }
            let file = HypernetworkFile(search: search, accuracyMode: accuracy, latencyPredictor: catalog.meta, log: log)
            try SearchOutput.write(rows: rows, file: file, adapted: catalog.adapted, to: out)
            func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
            let searchSeconds = Date().timeIntervalSince(started)

            let measured = try database.map { db in
                try Dictionary(uniqueKeysWithValues: catalog.devices.filter { $0.features.source == "measured" }.map { ($0.name, try db.latencies(device: $0.name, space: "nb201")) })
            } ?? [:]
            let (results, missing) = FrontEvaluation.evaluate(rows, benchmark: benchmark, measured: measured, baselineBudget: baselineBudget, seed: seed)
            let table = FrontEvaluation.table(results, missing: missing)
            try (table + "\n").write(toFile: path("evaluation.txt"), atomically: true, encoding: .utf8)
            let settings = RunSettings(search: file, devices: catalog.devices, seconds: searchSeconds, baselineBudget: baselineBudget, command: CommandLine.arguments.joined(separator: " "))
            try HTMLReport(settings: settings, results: results, missing: missing, rows: rows, benchmark: benchmark)
                .render().write(toFile: path("report.html"), atomically: true, encoding: .utf8)
            print(table)
            print("search took \(minutesAndSeconds(searchSeconds)); wrote \(path("fronts.csv")), \(path("hypernetwork.json")), \(path("log.csv")), \(path("evaluation.txt")), \(path("report.html"))")
        }
    }
}

extension ModnasCommand {
    /// How good the accuracy surrogate is, before any search.
    struct Surrogate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "surrogate",
            abstract: "Fit the accuracy surrogate on K queried NB201 architectures and score it on the whole table.")

        @Option(help: "Accuracy-query budget K.") var queries = 200
        @Option(help: "NB201 accuracy column.") var dataset = "cifar10"
        @Option(help: "Seed of the queries.") var seed: UInt64 = 0
        @Option(help: "Preference vectors per front.") var preferences = 24

        func run() throws {
            let benchmark = try NB201Benchmark.shipped(index: try NB201Index.shipped(), dataset: dataset)
            print(SurrogateCheck.report(benchmark: benchmark, queries: queries, seed: seed, preferences: preferences))
        }
    }
}

extension ModnasCommand {
    /// Zero-shot fronts from a finished search.
    struct FrontsRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fronts",
            abstract: "Fronts for any device given by its features, from a search's hypernetwork, without searching again.")

        @Option(help: "hypernetwork.json written by modnas search.") var hypernetwork: String
        @Option(help: "Device feature files (a folder of <device>.json, or one file).") var deviceFeatures: String
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Output CSV.") var out: String

        func validate() throws {
            guard preferences >= 2 else { throw ValidationError("--preferences must be ≥ 2") }
        }

        func run() throws {
            let file = try HypernetworkFile.load(hypernetwork)
            let generator = try file.generator()
            let index = try NB201Index.shipped()
            var rows: [FrontRow] = []
            for features in try DeviceFeatures.loadAll(deviceFeatures) {
                let started = Date()
                let device = try file.device(features)
                let front = generator.front(for: device, preferences: preferences, index: index)
                rows += front
                note(String(format: "%@: %d distinct architectures in %.3f s (latency: %@)", device.name, Set(front.map(\.archIndex)).count,
                            Date().timeIntervalSince(started), device.latencySource))
            }
            try Fronts.write(rows, to: out)
            print("wrote \(rows.count) rows for \(Set(rows.map(\.device)).count) devices to \(out)")
        }
    }

    /// Scores fronts against the benchmark or measurements.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hypervolume, true-front HV, ratio, GD and IGD of each device's front (NB201 normalisation).")

        @Option(help: "Fronts CSV (modnas search or modnas fronts).") var fronts: String
        @Option(help: "Benchmark (only nb201).") var benchmark = "nb201"
        @Option(help: "NB201 accuracy column of the test error.") var dataset = "cifar10"
        @Option(help: "Profile database: measured latency for profiled hosts.") var db: String?
        @Option(help: "Architectures each baseline may query per benchmark device (0: none).") var baselineBudget = 0
        @Option(help: "Seed of the baselines.") var seed: UInt64 = 0
        @Option(help: "Also write an HTML report here.") var report: String?

        func validate() throws {
            guard benchmark == "nb201" else { throw ValidationError("--benchmark: only nb201 is available") }
            guard baselineBudget >= 0 else { throw ValidationError("--baseline-budget must be ≥ 0") }
        }

        func run() throws {
            let index = try NB201Index.shipped()
            let table = try NB201Benchmark.shipped(index: index, dataset: dataset)
            let rows = try Fronts.read(fronts, index: index)
            guard !rows.isEmpty else { throw ValidationError("\(fronts) has no rows; write fronts with modnas search or modnas fronts") }
            var measured: [String: [String: Double]] = [:]
            if let db {
                let database = try ProfileDatabase(path: db, readOnly: true)
                // Profiled hosts only: the benchmark test devices in the store hold just their 10 references.
                let hosts = Set(try database.deviceSummaries(referenceStrings: []).filter { $0.source == .measured }.map(\.name))
                for device in Set(rows.map(\.device)) where hosts.contains(device) && table.latency[device] == nil {
                    measured[device] = try database.latencies(device: device, space: "nb201")
                }
            }
            let (results, missing) = FrontEvaluation.evaluate(rows, benchmark: table, measured: measured, baselineBudget: baselineBudget, seed: seed)
            print(FrontEvaluation.table(results, missing: missing))
            if let report {
                let settings = RunSettings(title: "modnas evaluate: \(fronts)", items: [
                    ("command", CommandLine.arguments.joined(separator: " ")), ("fronts", fronts), ("error", table.errorSource),
                    ("baselines", baselineBudget > 0 ? "\(baselineBudget) architectures queried per benchmark device" : "not run")])
                try HTMLReport(settings: settings, results: results, missing: missing, rows: rows, benchmark: table)
                    .render().write(toFile: report, atomically: true, encoding: .utf8)
                print("wrote \(report)")
            }
        }
    }
}

extension ModnasCommand.Benchmark {
    /// Supernet training throughput at the default configuration, one OpenBLAS thread.
    func runSupernet() throws {
        OpenBLAS.setThreadCount(threads)
        let (training, test) = try DatasetSource(parsing: dataset).load()
        let c = SupernetConfiguration()
        let splits = DatasetSplits(training: training, test: test, limit: 2 * c.batchSize * (steps + 1), testLimit: 0, seed: c.seed)
        let trainer = SupernetTrainer(splits: splits, configuration: c)
        let r = SupernetThroughput.measure(trainer, steps: steps)
        print("supernet C=\(c.channels) N=\(c.cellsPerStage), \(training.name) \(training.channels)×\(training.height)×\(training.width), batch \(c.batchSize), \(threads) OpenBLAS thread(s)")
        print(String(format: "%d weight steps (one random connected architecture each, forward + backward + SGD) in %.2f s: %.0f images/s; sgemm %.1f %% of the time",
                     r.steps, r.seconds, r.imagesPerSecond, 100 * r.sgemmShare))
    }
}
