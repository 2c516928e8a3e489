import ArgumentParser
import Autodiff
import CommandSupport
import DataFiles
import Datasets
import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Reports
import Search
import SearchSpaces

/// Progress lines on standard error.
func note(_ line: String) { printToStandardError(line) }

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

        @Option(help: "Device feature files (a folder, whose files of --space are taken, or one file).") var deviceFeatures = "Profiles"
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Folder of latency predictors: meta.json and per-device files (mlp-<device>.json).") var predictors = "Predictors"
        @Option(help: "The meta predictor (default: <predictors>/meta.json).") var predictor: String?
        @Option(help: "surrogate (accuracy predictor on --queries NB201 architectures) or supernet (trained with the hypernetwork on --dataset).")
        var accuracy = "surrogate"
        @Option(help: "Profile database: devices with enough measurements and no predictor train with an adapted meta predictor.") var db: String?
        @Option(name: .customLong("hold-out"), help: "Treat this device as unseen: fronts only, from its features (repeatable).") var heldOut: [String] = []
        @Option(help: "Surrogate mode: NB201 accuracy column (cifar10, cifar100, imagenet16_120; default cifar10). Supernet mode: the images (fashion-mnist, cifar10:DIR, idx:DIR or synthetic; default fashion-mnist).")
        var dataset: String?
        @Option(help: "Accuracy-query budget K of the surrogate mode.") var queries = 200
        @Option(help: "Regressors averaged in the accuracy surrogate.") var surrogateEnsemble = 3
        @Option(help: "Epochs (default: 20 surrogate, \(SupernetDefaults.epochs) supernet).") var epochs: Int?
        @Option(help: "Hypernetwork steps per epoch in surrogate mode (default 100; in supernet mode an epoch is a pass over the weight images).")
        var stepsPerEpoch: Int?
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Preference vectors drawn per training device and step (default: 8 surrogate, 1 supernet).") var preferencesPerStep: Int?
        @Option(help: "Hypernetwork Adam learning rate (0: the paper's 3e-4 × training devices; default 1e-3 surrogate, \(SupernetDefaults.hypernetworkLearningRate) supernet).")
        var learningRate: Float?
        @Option(help: "Hypernetwork Adam L2 weight decay (the paper uses 0.09).") var weightDecay: Float = 0
        @Option(help: "Combine per-device gradients by min-norm (MGD) or mean (ablation).") var combination = "min-norm"
        @Flag(help: "Keep the learning rate constant (default: cosine decay to 1 %).") var constantLearningRate = false
        @Option(help: "Entropy bonus on softmax(α) at the start, decaying to 0 (0: off).") var entropyWeight: Float = 0.01
        @Option(help: "Supernet: channels C of the first stage.") var channels = SupernetConfiguration().channels
        @Option(help: "Supernet: cells N per stage.") var cellsPerStage = SupernetConfiguration().cellsPerStage
        @Option(help: "Supernet: images per sampled architecture in a step, for the weight and the architecture step (the paper: 256).") var batchSize = SupernetConfiguration().batchSize
        @Option(help: "Supernet: training images used, split half weights, half architecture (0: all).") var trainingImages = SupernetDefaults.trainingImages
        @Option(help: "Supernet: test images that score each front architecture (0: all).") var testImages = SupernetDefaults.testImages
        @Option(help: "Supernet: initial SGD learning rate per training device (× devices, cosine decay to 0.001).") var supernetLearningRate = SupernetConfiguration().learningRate
        @Option(help: "Supernet: epochs of weight steps on uniformly sampled architectures before the hypernetwork trains.")
        var warmupEpochs = SupernetConfiguration().warmupEpochs
        @Flag(help: "Supernet: random crop and flip of the weight batches (32×32 colour images).") var augment = false
        @Flag(help: "Supernet: the paper's configuration (C = 16, N = 5, batch 256, 100 epochs, all training images, crop and flip on colour images). Days on a CPU.")
        var paper = false
        @Option(help: "OpenBLAS threads.") var threads = 1
        @Flag(help: "Continue the interrupted search whose checkpoint.json is in --out (same flags).") var resume = false
        @Option(help: "Architectures each baseline may query per benchmark device (0: no baselines).") var baselineBudget = 200
        @Option(help: "Seed of the queries, data order, sampling, supernet and hypernetwork.") var seed: UInt64 = 0
        @Option(help: "Output folder, replaced whole when the search ends.") var out = "modnas-search"
        @Flag(help: "Replace the files an existing --out holds.") var force = false
        @Flag(help: "Surrogate mode: also score, as a yardstick, the exhaustive optimum of the search's objectives per preference (enumerates NB201).")
        var exhaustive = false

        var isSupernet: Bool { accuracy == "supernet" }

        func validate() throws {
            try spaceOption.require([.nb201], for: "modnas search")
            guard accuracy == "surrogate" || accuracy == "supernet" else { throw ValidationError("--accuracy must be surrogate or supernet") }
            guard combination == "min-norm" || combination == "mean" else { throw ValidationError("--combination must be min-norm or mean") }
            guard queries >= 10, queries <= NB201Architecture.spaceSize else { throw ValidationError("--queries must be in 10…15625") }
            guard (epochs ?? 1) >= 1, (stepsPerEpoch ?? 1) >= 1, (preferencesPerStep ?? 1) >= 1, preferences >= 2, baselineBudget >= 0 else {
                throw ValidationError("--epochs, --steps-per-epoch and --preferences-per-step must be ≥ 1, --preferences ≥ 2, --baseline-budget ≥ 0")
            }
            guard channels >= 1, cellsPerStage >= 1, batchSize >= 2, trainingImages >= 0, testImages >= 0, threads >= 1, warmupEpochs >= 0 else {
                throw ValidationError("--channels, --cells-per-stage and --threads must be ≥ 1, --batch-size ≥ 2, --training-images, --test-images and --warmup-epochs ≥ 0")
            }
            try requireFinite("--learning-rate", Double(learningRate ?? 0), atLeast: 0)
            try requireFinite("--weight-decay", Double(weightDecay), atLeast: 0)
            try requireFinite("--entropy-weight", Double(entropyWeight), atLeast: 0)
            try requireFinite("--supernet-learning-rate", Double(supernetLearningRate), atLeast: 0)
            if isSupernet, let epochs, epochs <= warmupEpochs { throw ValidationError("--epochs must exceed --warmup-epochs (\(warmupEpochs)): the hypernetwork trains after the warm-up") }
            if isSupernet, stepsPerEpoch != nil { throw ValidationError("in supernet mode an epoch is one pass over the weight images; set --training-images instead of --steps-per-epoch") }
            if isSupernet, exhaustive { throw ValidationError("--exhaustive needs the surrogate mode (it enumerates the surrogate's estimates)") }
        }

        func run() throws {
            let started = Date()
            let output = try OutputFolder(path: out, resume: resume, force: force)
            OpenBLAS.setThreadCount(threads)
            let index = try NB201Index.shipped()
            let benchmark = try NB201Benchmark.shipped(index: index, dataset: isSupernet ? "cifar10" : dataset ?? "cifar10")
            let features = try DeviceFeatures.loadAll(existingOrShipped(deviceFeatures), space: .nb201)
            let database = try db.map { try ProfileDatabase(path: $0, readOnly: true) }
            let catalog = try DeviceCatalog(features: features, predictorDirectory: existingOrShipped(predictors), metaPredictor: predictor,
                                            database: database, index: index, heldOut: Set(heldOut), progress: note)
            guard catalog.devices.contains(where: \.isTraining) else { throw SearchError.noTrainingDevices(directory: deviceFeatures) }
            func path(_ name: String) -> String { output.file(name) }
            let checkpoint = resume ? try SearchCheckpoint.load(output.checkpointPath) : nil
            if !resume, FileManager.default.fileExists(atPath: output.checkpointPath) {
                note("starting afresh: \(output.checkpointPath) will be replaced after the first epoch (--resume continues it instead)")
            }

            let training = catalog.devices.filter(\.isTraining)
            let (c, objective) = try makeObjective(benchmark: benchmark, trainingDevices: training.count)
            let search = try MODNASSearch(devices: catalog.devices, accuracy: objective, configuration: c)
            if let checkpoint { try search.restore(checkpoint) }
            note("modnas search: \(training.count) training devices (\(training.map(\.name).joined(separator: ", "))), "
                 + "\(catalog.devices.count - training.count) zero-shot; accuracy: \(objective.settings); "
                 + "\(c.epochs) epochs × \(c.stepsPerEpoch) steps × \(c.preferencesPerStep) preference vector(s); seed \(c.seed)")
            if let checkpoint { note("resumed from \(path("checkpoint.json")) after epoch \(checkpoint.epochs) of \(c.epochs)") }
            try output.prepare()
            while search.log.count < c.epochs {
                search.run(epochs: 1) { log, left in
                    let rows = training.flatMap { FrontGenerator(hypernetwork: search.hypernetwork) { $0.map { _ in nil } }
                        .front(for: $0, preferences: preferences, index: index) }
                    log.benchmarkHypervolume = FrontEvaluation.meanBenchmarkHypervolume(rows, benchmark: benchmark)
                    note(String(format: "epoch %d/%d", log.epoch, c.epochs)
                         + (log.meanLoss.map { String(format: "  loss %.4f", $0) } ?? "  warm-up (supernet only)")
                         + (log.supernetLoss.map { String(format: "  supernet CE %.4f", $0) } ?? "")
                         + (log.predictedHypervolume.map { String(format: "  HV predicted %.4f", $0) } ?? "")
                         + (log.benchmarkHypervolume.map { String(format: "  HV benchmark %.4f", $0) } ?? "")
                         + "  elapsed \(minutesAndSeconds(log.seconds))  ETA \(minutesAndSeconds(left))")
                }
                try search.checkpoint().write(to: output.checkpointPath)
            }
            let log = search.log
            let exhaustiveRows = exhaustive ? training.flatMap { search.exhaustiveFront(for: $0, preferences: preferences, index: index) ?? [] } : nil
            if let exhaustiveRows {
                note("exhaustive optimum of the search's objectives, scored on the benchmark:")
                note(FrontEvaluation.table(FrontEvaluation.evaluate(exhaustiveRows, benchmark: benchmark).results, missing: [:]))
            }
            if isSupernet { note("scoring the fronts' architectures with the trained supernet on the test split …") }
            let rows = catalog.devices.flatMap { search.generator.front(for: $0, preferences: preferences, index: index) }
            let file = HypernetworkFile(search: search, latencyPredictor: catalog.meta, log: log, rows: rows)
            let searchSeconds = Date().timeIntervalSince(started)

            let measured = try database.map { db in
                try Dictionary(uniqueKeysWithValues: catalog.devices.filter { $0.features.source == "measured" }.map { ($0.name, try db.latencies(device: $0.name, space: "nb201")) })
            } ?? [:]
            let (results, missing) = FrontEvaluation.evaluate(rows, benchmark: benchmark, measured: measured, baselineBudget: baselineBudget, seed: c.seed)
            let table = (isSupernet ? "HV with the NB201 benchmark's \(benchmark.errorSource) as the error of the fronts' architectures (the search's estimates are in fronts.csv)\n" : "")
                + FrontEvaluation.table(results, missing: missing)
            let settings = RunSettings(search: file, devices: catalog.devices, seconds: searchSeconds, baselineBudget: baselineBudget, command: CommandLine.arguments.joined(separator: " "))
            let report = HTMLReport(settings: settings, results: results, missing: missing, rows: rows, benchmark: benchmark).render()
            try output.publish { folder in
                try SearchOutput.write(rows: rows, file: file, adapted: catalog.adapted, to: folder.path)
                if let exhaustiveRows { try Fronts.write(exhaustiveRows, to: folder.file("exhaustive-fronts.csv")) }
                try (table + "\n").write(toFile: folder.file("evaluation.txt"), atomically: true, encoding: .utf8)
                try report.write(toFile: folder.file("report.html"), atomically: true, encoding: .utf8)
            }
            print(table)
            print("search took \(minutesAndSeconds(searchSeconds))\(checkpoint == nil ? "" : " in this run (resumed)"); wrote \(path("fronts.csv")), \(path("hypernetwork.json")), \(path("log.csv")), \(path("evaluation.txt")), \(path("report.html")), \(path("checkpoint.json"))")
        }

        /// The search settings and the accuracy objective of the chosen mode.
        func makeObjective(benchmark: NB201Benchmark, trainingDevices: Int) throws -> (SearchConfiguration, AccuracyObjective) {
            var c = SearchConfiguration()
            c.epochs = epochs ?? (isSupernet ? (paper ? 100 : SupernetDefaults.epochs) : 20)
            c.preferences = preferences
            c.preferencesPerStep = preferencesPerStep ?? (isSupernet ? 1 : 8)
            let rate = learningRate ?? (isSupernet ? SupernetDefaults.hypernetworkLearningRate : 1e-3)
            c.learningRate = rate > 0 ? rate : nil
            c.weightDecay = weightDecay
            c.combination = combination
            c.cosineSchedule = !constantLearningRate
            c.entropyWeight = entropyWeight
            c.surrogateEnsemble = surrogateEnsemble
            c.seed = seed
            c.accuracyQueries = queries
            guard isSupernet else {
                c.stepsPerEpoch = stepsPerEpoch ?? 100
                c.dataset = dataset ?? "cifar10"
                return (c, try SurrogateAccuracy(benchmark.surrogate(queries: queries, seed: seed, ensembleSize: surrogateEnsemble)))
            }
            c.dataset = dataset ?? "fashion-mnist"
            let (train, test) = try DatasetSource(parsing: c.dataset).load()
            var s = SupernetConfiguration()
            (s.channels, s.cellsPerStage, s.batchSize, s.learningRate, s.augment, s.seed) = (channels, cellsPerStage, batchSize, supernetLearningRate, augment, seed)
            s.warmupEpochs = warmupEpochs
            if paper { (s.channels, s.cellsPerStage, s.batchSize, s.augment) = (16, 5, 256, train.channels == 3 && train.height == 32) }
            let images = paper || trainingImages == 0 ? train.count : min(trainingImages, train.count)
            guard images / 2 >= s.batchSize * trainingDevices else {
                throw ValidationError("--training-images \(images) leave fewer weight images than one step needs (\(trainingDevices) devices × --batch-size \(s.batchSize)); use more images or a smaller --batch-size")
            }
            let splits = DatasetSplits(training: train, test: test, limit: images, testLimit: testImages == 0 ? nil : testImages, seed: seed)
            let objective = SupernetAccuracy(trainer: SupernetTrainer(splits: splits, configuration: s), devices: trainingDevices, evaluationImages: splits.test.count)
            c.stepsPerEpoch = objective.stepsPerEpoch
            return (c, objective)
        }
    }
}

/// The supernet mode's default size: about 10 minutes on this 2-core VM (see README).
enum SupernetDefaults {
    static let epochs = 8
    static let trainingImages = 0
    static let testImages = 1_000
    static let hypernetworkLearningRate: Float = 3e-3
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
    /// How good the supernet's accuracy estimate is, after a supernet search.
    struct SupernetCheck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "supernet-check",
            abstract: "Rank correlation between a supernet search's accuracy estimates and short stand-alone training of architectures spread over NB201.")

        @Option(help: "Output folder of a finished modnas search --accuracy supernet.") var search = "modnas-search"
        @Option(help: "Architectures, spread over the space by multiply-accumulates.") var architectures = 20
        @Option(help: "Stand-alone training epochs over --images weight images.") var epochs = 1
        @Option(help: "Weight images for stand-alone training (0: all of the search's).") var images = 0
        @Option(help: "Architecture (validation) images that score both.") var validationImages = 1_000
        @Option(help: "OpenBLAS threads.") var threads = 1

        func validate() throws {
            guard architectures >= 3, epochs >= 1, images >= 0, validationImages >= 1, threads >= 1 else {
                throw ValidationError("--architectures must be ≥ 3, --epochs, --validation-images and --threads ≥ 1, --images ≥ 0")
            }
        }

        func run() throws {
            OpenBLAS.setThreadCount(threads)
            let trainer = try SupernetRanking.trainer(searchDirectory: search)
            let n = images == 0 ? trainer.splits.weights.count : min(images, trainer.splits.weights.count)
            print("supernet of \(search) (C = \(trainer.configuration.channels), N = \(trainer.configuration.cellsPerStage)); stand-alone: \(epochs) epoch(s) "
                  + "on \(n) weight images; both scored on \(min(validationImages, trainer.splits.architecture.count)) architecture (validation) images")
            print("arch_index  supernet_acc  stand_alone_acc  seconds  arch_string")
            let index = try NB201Index.shipped()
            let result = SupernetRanking.run(trainer: trainer, architectures: SupernetRanking.spreadArchitectures(count: architectures),
                                             epochs: epochs, images: n, validationImages: validationImages) { row in
                print(String(format: "%10d  %12.2f  %15.2f  %7.1f  %@", index.index(of: row.architecture), row.supernetAccuracy,
                             row.standAloneAccuracy, row.seconds, row.architecture.string))
                fflush(stdout)   // rows as they come, also into a file
            }
            print(String(format: "Spearman ρ %.3f, Kendall τ %.3f over %d architectures", result.spearman, result.kendall, result.rows.count))
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
        @Option(help: "Device feature files (a folder, whose files of --space are taken, or one file).") var deviceFeatures: String
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Output CSV.") var out: String

        func validate() throws {
            try spaceOption.require([.nb201], for: "modnas fronts")
            guard preferences >= 2 else { throw ValidationError("--preferences must be ≥ 2") }
        }

        func run() throws {
            let file = try HypernetworkFile.load(hypernetwork)
            let generator = try file.generator()
            let index = try NB201Index.shipped()
            var rows: [FrontRow] = []
            for features in try DeviceFeatures.loadAll(deviceFeatures, space: .nb201) {
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
                let hosts = Set(try database.deviceSummaries(referenceStrings: [:]).filter { $0.source == .measured && $0.space == "nb201" }.map(\.name))
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
    /// Supernet training throughput at the default configuration (weight steps shaped as the
    /// search's: one architecture per training device, each on its own batch).
    func runSupernet() throws {
        OpenBLAS.setThreadCount(threads)
        let (training, test) = try DatasetSource(parsing: dataset).load()
        let c = SupernetConfiguration()
        let splits = DatasetSplits(training: training, test: test, limit: 2 * c.batchSize * architectures * (steps + 1), testLimit: 0, seed: c.seed)
        let trainer = SupernetTrainer(splits: splits, configuration: c)
        let r = SupernetThroughput.measure(trainer, steps: steps, architectures: architectures)
        print("supernet C=\(c.channels) N=\(c.cellsPerStage), \(training.name) \(training.channels)×\(training.height)×\(training.width), "
              + "\(architectures) architectures × \(c.batchSize) images per step, \(threads) OpenBLAS thread(s)")
        print(String(format: "%d weight steps (random connected architectures, forward + backward + SGD) in %.2f s: %.0f images/s; sgemm %.1f %% of the time",
                     r.steps, r.seconds, r.imagesPerSecond, 100 * r.sgemmShare))
    }
}
