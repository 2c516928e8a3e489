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
import Benchmarks
import Evaluation
import Search
import SearchSpaces
import Workflow
import NB201Space

/// Progress lines on standard error.
func note(_ line: String) { printToStandardError(line) }

extension AccuracyMode: ExpressibleByArgument {}
extension SupernetObjective: ExpressibleByArgument {}
extension GradientCombination: ExpressibleByArgument {}
extension Scalarization: ExpressibleByArgument {}

extension ModnasCommand {
    /// One search, fronts for every device.
    struct SearchRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Train the MODNAS hypernetwork across the training devices; write fronts for every device, the hypernetwork, a log and a report.")

        @Option(help: "Device feature files (a folder, whose files of --space are taken, or one file).") var deviceFeatures = "Profiles"
        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "Folder of latency predictors: meta.json and per-device files (mlp-<device>.json; OFA: meta.ofa.json, mlp-<device>.ofa.json).") var predictors = "Predictors"
        @Option(help: "The meta predictor (default: <predictors>/meta.json, OFA meta.ofa.json).") var predictor: String?
        @Option(help: "surrogate (fitted on --queries benchmark queries), benchmark (OFA's accuracy predictor or HW-GPT-Bench's perplexity predictor itself, the upper bound), supernet (NB201: trained with the hypernetwork on --dataset), proxy (a surrogate fitted on the zero-cost proxy vote of --queries sampled architectures on --dataset, GPT: on their non-embedding parameter count; no accuracy query) or supernet+proxy (the supernet's estimates of the --queries architectures rank-averaged with their proxy vote).")
        var accuracy = AccuracyMode.surrogate
        @Option(help: "The costs minimised beside the accuracy objective (always first), comma-separated: latency, energy (each device's predictors; energy needs devices with energy and Predictors/energy-meta*.json), params, flops (the space's counts).")
        var objectives = "latency"
        @Option(help: "Profile database: devices with enough measurements and no predictor train with an adapted meta predictor.") var db: String?
        @Option(name: .customLong("hold-out"), help: "Treat this device as unseen: fronts only, from its features (repeatable).") var heldOut: [String] = []
        @Option(help: "Surrogate mode: NB201 accuracy column (cifar10, cifar100, imagenet16_120; default cifar10). Supernet and proxy modes: the images (fashion-mnist, cifar10:DIR, idx:DIR or synthetic; default fashion-mnist).")
        var dataset: String?
        @Option(help: "Accuracy-query budget K of the surrogate mode; in the proxy and supernet modes, the sampled architectures the proxies or the supernet score.") var queries = 200
        @Option(help: "Regressors averaged in the accuracy surrogate.") var surrogateEnsemble = 3
        @Option(help: "Epochs (default: 20 surrogate, \(SupernetDefaults.epochs) supernet).") var epochs: Int?
        @Option(help: "Hypernetwork steps per epoch in surrogate mode (default 100; in supernet mode an epoch is a pass over the weight images).")
        var stepsPerEpoch: Int?
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Preference vectors drawn per training device and step (default: 8; 1 with --supernet-objective cross-entropy).") var preferencesPerStep: Int?
        @Option(help: "Hypernetwork Adam learning rate (0: the paper's 3e-4 × training devices; default 1e-3 surrogate, \(SupernetDefaults.hypernetworkLearningRate) supernet).")
        var learningRate: Float?
        @Option(help: "Hypernetwork Adam L2 weight decay (the paper uses 0.09).") var weightDecay: Float = 0
        @Option(help: "Combine per-device gradients by min-norm (MGD) or mean (ablation).") var combination = GradientCombination.minNorm
        @Flag(help: "Keep the learning rate constant (default: cosine decay to 1 %).") var constantLearningRate = false
        @Option(help: "Entropy bonus on softmax(α) at the start, decaying to 0 (0: off).") var entropyWeight: Float = 0.01
        @Option(help: "λ of the scalarised loss's cosine term Σ rₘLₘ − λ·cos(L, r) (the paper's 0.01).") var cosineWeight: Float = 0.01
        @Option(help: "How a preference weighs the objectives: linear (the paper's Σ rₘLₘ) or chebyshev (a smooth max of rₘLₘ, which reaches a front's non-convex parts; GPT's fronts are such).") var scalarization = Scalarization.linear
        @Option(help: "Supernet: channels C of the first stage.") var channels = SupernetConfiguration().channels
        @Option(help: "Supernet: cells N per stage.") var cellsPerStage = SupernetConfiguration().cellsPerStage
        @Option(help: "Supernet: images per sampled architecture in a step, for the weight and the architecture step (the paper: 256).") var batchSize = SupernetConfiguration().batchSize
        @Option(help: "Supernet: training images used, split half weights, half architecture (0: all).") var trainingImages = SupernetDefaults.trainingImages
        @Option(help: "Supernet: test images that score each front architecture (0: all).") var testImages = SupernetDefaults.testImages
        @Option(help: "Supernet: initial SGD learning rate per training device (× devices, cosine decay to 0.001).") var supernetLearningRate = SupernetConfiguration().learningRate
        @Option(help: "Supernet: epochs of weight steps on uniformly sampled architectures before the hypernetwork trains.")
        var warmupEpochs = SupernetConfiguration().warmupEpochs
        @Option(help: "Supernet: what the hypernetwork reads after the warm-up: fitted (a surrogate fitted each epoch on the supernet's estimates of --queries sampled architectures) or cross-entropy (the paper's: the supernet's loss through the relaxed sample; default with --paper).")
        var supernetObjective: SupernetObjective?
        @Option(help: "Supernet, fitted objective: architecture images that score each of the --queries architectures.") var validationImages = SupernetDefaults.validationImages
        @Flag(help: "Supernet: random crop and flip of the weight batches (32×32 colour images).") var augment = false
        @Flag(help: "Supernet: each edge's 1×1 kernel is the centre taps of its 3×3 kernel, as in the original code (default with --paper).")
        var sharedKernels = false
        @Flag(help: "Supernet: the paper's configuration (C = 16, N = 5, batch 256, 100 epochs, all training images, crop and flip on colour images, shared kernels). Days on a CPU.")
        var paper = false
        @OptionGroup var threadsOption: ThreadsOption
        @Flag(help: "Continue the interrupted search whose checkpoint.json is in --out (same flags).") var resume = false
        @Option(help: "Architectures each baseline may query per benchmark device (0: no baselines).") var baselineBudget = 200
        @Option(help: "Seed of the queries, data order, sampling, supernet and hypernetwork.") var seed: UInt64 = 0
        @Option(help: "Output folder, replaced whole when the search ends.") var out = "modnas-search"
        @Flag(help: "Replace the files an existing --out holds.") var force = false
        @Flag(help: "NB201, surrogate, proxy or fitted supernet objective: also score, as a yardstick, the exhaustive optimum of the search's objectives per preference (enumerates NB201).")
        var exhaustive = false

        var isSupernet: Bool { accuracy == .supernet || accuracy == .supernetProxy }

        /// The supernet's options given other values than their defaults (outside the supernet modes they would do nothing).
        var supernetOptionsGiven: [String] {
            let defaults = SupernetConfiguration()
            let changed: [(String, Bool)] = [
                ("--channels", channels != defaults.channels), ("--cells-per-stage", cellsPerStage != defaults.cellsPerStage),
                ("--batch-size", batchSize != defaults.batchSize), ("--training-images", trainingImages != SupernetDefaults.trainingImages),
                ("--test-images", testImages != SupernetDefaults.testImages), ("--supernet-learning-rate", supernetLearningRate != defaults.learningRate),
                ("--warmup-epochs", warmupEpochs != defaults.warmupEpochs), ("--supernet-objective", supernetObjective != nil),
                ("--validation-images", validationImages != SupernetDefaults.validationImages), ("--augment", augment),
                ("--shared-kernels", sharedKernels), ("--paper", paper),
            ]
            return changed.filter(\.1).map(\.0)
        }

        func validate() throws {
            let space = spaceOption.space
            do { _ = try ObjectiveList(parsing: objectives) } catch { throw ValidationError("\(error)") }
            guard queries >= 10, queries <= space.tableSize else { throw ValidationError("--queries must be in 10…\(space.tableSize) for \(space.shortName)") }
            if isSupernet, space != .nb201 { throw ValidationError("--accuracy \(accuracy.rawValue) trains an NB201 supernet; for --space \(space) use surrogate or benchmark") }
            if accuracy == .benchmark {
                let model: (any BenchmarkLossModel)?
                do { model = try space.space.benchmarkLossModel() } catch { throw ValidationError("\(error)") }
                guard model != nil else {
                    throw ValidationError("--accuracy benchmark needs a differentiable benchmark accuracy (OFA's or HW-GPT-Bench's predictor); \(space.shortName) has a table only: use surrogate")
                }
            }
            if space != .nb201, dataset != nil {
                throw ValidationError("--dataset chooses an NB201 accuracy column or data set; \(space.shortName)'s loss comes from its own benchmark: leave --dataset out")
            }
            if exhaustive, space.space.enumeration() == nil { throw ValidationError("--exhaustive enumerates the space; \(space.shortName) is too large to list") }
            guard (epochs ?? 1) >= 1, (stepsPerEpoch ?? 1) >= 1, (preferencesPerStep ?? 1) >= 1, preferences >= 2, baselineBudget >= 0 else {
                throw ValidationError("--epochs, --steps-per-epoch and --preferences-per-step must be ≥ 1, --preferences ≥ 2, --baseline-budget ≥ 0")
            }
            guard channels >= 1, cellsPerStage >= 1, batchSize >= 2, trainingImages >= 0, testImages >= 0, warmupEpochs >= 0, validationImages >= 1 else {
                throw ValidationError("--channels, --cells-per-stage and --validation-images must be ≥ 1, --batch-size ≥ 2, --training-images, --test-images and --warmup-epochs ≥ 0")
            }
            if accuracy == .supernetProxy, SupernetObjective.resolved(supernetObjective, paper: paper) == .crossEntropy {
                throw ValidationError("--accuracy supernet+proxy fits a surrogate on both estimates; use --supernet-objective fitted (the default without --paper)")
            }
            try requireFinite("--learning-rate", Double(learningRate ?? 0), atLeast: 0)
            try requireFinite("--weight-decay", Double(weightDecay), atLeast: 0)
            try requireFinite("--entropy-weight", Double(entropyWeight), atLeast: 0)
            try requireFinite("--cosine-weight", Double(cosineWeight), atLeast: 0)
            try requireFinite("--supernet-learning-rate", Double(supernetLearningRate), atLeast: 0)
            if isSupernet, let epochs, epochs <= warmupEpochs { throw ValidationError("--epochs must exceed --warmup-epochs (\(warmupEpochs)): the hypernetwork trains after the warm-up") }
            if isSupernet, stepsPerEpoch != nil { throw ValidationError("in supernet mode an epoch is one pass over the weight images; set --training-images instead of --steps-per-epoch") }
            if !isSupernet, let ignored = supernetOptionsGiven.first {
                throw ValidationError("\(ignored) configures the supernet, which --accuracy \(accuracy.rawValue) does not train: drop it, or use --accuracy supernet or supernet+proxy")
            }
            if isSupernet, exhaustive, SupernetObjective.resolved(supernetObjective, paper: paper) == .crossEntropy {
                throw ValidationError("--exhaustive enumerates a surrogate's estimates; the supernet's cross-entropy objective has none: use --supernet-objective fitted")
            }
        }

        func run() throws {
            var r = SearchRequest()
            (r.deviceFeatures, r.space, r.predictors, r.metaPredictor, r.accuracy) = (deviceFeatures, spaceOption.space, predictors, predictor, accuracy)
            r.objectives = try ObjectiveList(parsing: objectives)
            (r.database, r.heldOut, r.dataset, r.queries, r.surrogateEnsemble) = (db, heldOut, dataset, queries, surrogateEnsemble)
            (r.epochs, r.stepsPerEpoch, r.preferences, r.preferencesPerStep) = (epochs, stepsPerEpoch, preferences, preferencesPerStep)
            (r.learningRate, r.weightDecay, r.combination, r.constantLearningRate, r.entropyWeight, r.cosineWeight) =
                (learningRate, weightDecay, combination, constantLearningRate, entropyWeight, cosineWeight)
            r.scalarization = scalarization
            (r.supernet.channels, r.supernet.cellsPerStage, r.supernet.batchSize, r.supernet.learningRate, r.supernet.augment, r.supernet.warmupEpochs) =
                (channels, cellsPerStage, batchSize, supernetLearningRate, augment, warmupEpochs)
            if sharedKernels { r.supernet.sharedKernels = true }
            (r.trainingImages, r.testImages, r.paper, r.threads, r.resume) = (trainingImages, testImages, paper, threadsOption.threads, resume)
            (r.supernetObjective, r.validationImages) = (supernetObjective, validationImages)
            (r.baselineBudget, r.seed, r.out, r.force, r.exhaustive) = (baselineBudget, seed, out, force, exhaustive)
            r.command = CommandLine.arguments.joined(separator: " ")
            let outcome = try SearchWorkflow(r).run(note: note)
            print(outcome.table)
            print("search took \(minutesAndSeconds(outcome.seconds))\(outcome.resumed ? " in this run (resumed)" : ""); wrote \(outcome.files.joined(separator: ", "))")
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
    /// Does an accuracy estimator rank architectures? A benchmark command, resumable.
    struct RankCheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rank-check",
            abstract: "Kendall τ and Spearman ρ (with bootstrap intervals) between accuracy estimators and the truth, beside the #params and FLOPs baselines.")

        @Option(help: ArgumentHelp("Comma-separated estimators.", discussion: RankEstimator.formatHelp)) var estimator = "proxy:synflow"
        @Option(help: "table (NB201's CIFAR-10 accuracies after 200 epochs) or training (stand-alone training on --dataset).") var truth = RankCheckRequest().truth
        @Option(help: "Connected architectures stratified by their number of convolutions (≥ 3), or all (every NB201 architecture).") var archs = "48"
        @Option(help: "Images of the data-dependent proxies and of the training truth (fashion-mnist, cifar10:DIR, idx:DIR or synthetic).") var dataset = RankCheckRequest().dataset
        @Option(help: "Channels C of the networks scored and trained.") var channels = RankCheckRequest().channels
        @Option(help: "Cells per stage N of the networks scored and trained.") var cells = RankCheckRequest().cellsPerStage
        @Option(help: "Images in the data-dependent proxies' minibatch.") var batch = RankCheckRequest().batch
        @Option(help: "Training truth: epochs.") var epochs = StandAloneTraining().epochs
        @Option(help: "Training truth: weight images trained on (a fixed seeded subset).") var images = StandAloneTraining().images
        @Option(help: "Training truth and supernet: validation images that score each architecture.") var validationImages = StandAloneTraining().validationImages
        @Option(help: "Training truth: seeds averaged.") var seeds = StandAloneTraining().seeds
        @Option(help: "Output folder of a finished modnas search --accuracy supernet (the supernet estimator; its data and C, N are used).") var search: String?
        @Option(help: "Bootstrap resamples of the intervals (at most 100 above 2,000 architectures).") var resamples = RankCheckRequest().resamples
        @Option(help: "Seed of the architectures, networks and data subset.") var seed: UInt64 = 0
        @Option(help: "Folder of the rows (rows.csv, appended as scored: rerunning resumes) and summary.txt.") var out = RankCheckRequest().out
        @OptionGroup var threadsOption: ThreadsOption

        func validate() throws {
            guard archs == "all" || (Int(archs).map { $0 >= 3 } ?? false) else { throw ValidationError("--archs must be a number ≥ 3 or all") }
            guard channels >= 1, cells >= 1, batch >= 2, epochs >= 1, images >= 1, validationImages >= 1, seeds >= 1, resamples >= 10 else {
                throw ValidationError("--channels, --cells, --epochs, --images, --validation-images and --seeds must be ≥ 1, --batch ≥ 2, --resamples ≥ 10")
            }
        }

        func run() throws {
            OpenBLAS.setThreadCount(threadsOption.threads)
            var r = RankCheckRequest()
            r.estimators = try RankEstimator.list(parsing: estimator)
            if let e = r.estimators.first(where: \.needsSupernet), search == nil { throw ValidationError("--estimator \(e) needs --search DIR, a finished supernet search") }
            (r.truth, r.architectures, r.dataset, r.channels, r.cellsPerStage, r.batch) = (truth, Int(archs), dataset, channels, cells, batch)
            (r.training.epochs, r.training.images, r.training.validationImages, r.training.seeds) = (epochs, images, validationImages, seeds)
            (r.search, r.resamples, r.seed, r.out) = (search, resamples, seed, out)
            let summary = try RankCheckWorkflow(r).run { print($0); fflush(stdout) }
            print(summary, terminator: "")
        }
    }
}

extension ModnasCommand {
    /// Zero-shot fronts from a finished search.
    struct FrontsRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fronts",
            abstract: "Fronts for any device given by its features, from a search's hypernetwork, without searching again.")

        @Option(help: "hypernetwork.json written by modnas search (its space is the search's).") var hypernetwork: String
        @Option(help: "Device feature files (a folder, whose files of the search's space are taken, or one file).") var deviceFeatures: String
        @Option(help: "Preference vectors per front.") var preferences = 24
        @Option(help: "Output CSV.") var out: String

        func validate() throws {
            guard preferences >= 2 else { throw ValidationError("--preferences must be ≥ 2") }
        }

        func run() throws {
            let file = try HypernetworkFile.load(hypernetwork)
            let rows = try fronts(file, space: file.spaceName.space)
            print("wrote \(rows.count) rows for \(Set(rows.map(\.device)).count) devices to \(out)")
        }

        func fronts<S: SearchSpace>(_ file: HypernetworkFile, space: S) throws -> [FrontRow] {
            let generator = try file.generator(space: space)
            let tableIndex = try space.tableIndexer()
            var rows: [FrontRow] = []
            for features in try DeviceFeatures.loadAll(deviceFeatures, space: space.name) {
                let started = Date()
                let device = try file.device(features)
                let front = generator.front(for: device, preferences: preferences, tableIndex: tableIndex)
                rows += front
                note(String(format: "%@: %d distinct architectures in %.3f s (latency: %@)", device.name, Set(front.map(\.architecture)).count,
                            Date().timeIntervalSince(started), device.latencySource))
            }
            try Fronts.write(rows, space: space, objectives: file.objectiveList, to: out)
            return rows
        }
    }

    /// Scores fronts against the benchmark or measurements.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hypervolume, true-front HV (NB201), ratio, GD and IGD of each device's front, with the benchmark's normalisation.")

        @Option(help: "Fronts CSV (modnas search or modnas fronts).") var fronts: String
        @Option(help: "Benchmark of the fronts' space: nb201 (tables of every architecture), ofa (the OFA accuracy predictor, evaluation latency predictors) or gpt (HW-GPT-Bench's tables, perplexity predictor and evaluation predictors); default: the space of the fronts file's columns.")
        var benchmark: SpaceName?
        @Option(help: "Score on these of the file's costs only (e.g. latency: the HV of perplexity and latency of three-objective fronts); default: all of them.")
        var objectives: String?
        @Option(help: "NB201 accuracy column of the test error (default cifar10).") var dataset: String?
        @Option(help: "Profile database: measured latency for profiled hosts.") var db: String?
        @Option(help: "Architectures each baseline may query per benchmark device (0: none).") var baselineBudget = 0
        @Option(help: "Seed of the baselines.") var seed: UInt64 = 0
        @Option(help: "Also write an HTML report here.") var report: String?

        func validate() throws {
            guard baselineBudget >= 0 else { throw ValidationError("--baseline-budget must be ≥ 0") }
            if let benchmark, benchmark != .nb201, dataset != nil { throw ValidationError("--dataset chooses an NB201 accuracy column; \(benchmark.shortName)'s loss comes from its own benchmark: leave --dataset out") }
        }

        func run() throws {
            let space = try benchmark ?? Fronts.space(of: CSVTable(contentsOf: fronts))
            try evaluate(try space.shippedBenchmark(dataset: dataset))
        }

        func evaluate<B: SearchBenchmark>(_ table: B) throws {
            let space = table.space
            let csv = try CSVTable(contentsOf: fronts)
            let rows = try Fronts.rows(of: csv, space: space), written = try Fronts.objectives(of: csv)
            var objectives = written
            if let given = self.objectives {
                objectives = try ObjectiveList(parsing: given).withLoss(of: space)
                guard objectives.costs.allSatisfy(written.costs.contains) else {
                    throw ValidationError("--objectives \(given): \(fronts) holds \(written.costs.map(\.rawValue).joined(separator: ",")); score on some of those")
                }
            }
            guard !rows.isEmpty else { throw ValidationError("\(fronts) has no rows; write fronts with modnas search or modnas fronts") }
            var measured: [String: [String: Double]] = [:], clocks: [String: LatencyClock] = [:]
            if let db {
                let database = try ProfileDatabase(path: db, readOnly: true)
                // Profiled hosts only: the benchmark test devices in the store hold just their 10 references.
                let hosts = Set(try database.deviceSummaries(referenceStrings: [:]).filter { $0.source == .measured && $0.space == space.name.rawValue }.map(\.name))
                for device in Set(rows.map(\.device)) where hosts.contains(device) && table.points(device: device) == nil {
                    measured[device] = try database.latencies(device: device, space: space.name.rawValue)
                    clocks[device] = try database.latencyClock(device: device, space: space.name.rawValue)
                }
            }
            let (results, missing) = table.evaluate(rows, objectives: objectives, measured: measured, baselineBudgets: [baselineBudget], seed: seed)
            let benchmarkDevices = results.filter(\.latencySource.isBenchmark).count
            print(table.evaluationHeading(searchEstimates: false)
                  + FrontEvaluation.budgetLine(modnasQueries: nil, trainingDevices: 0, baselineBudgets: [baselineBudget], benchmarkDevices: benchmarkDevices)
                  + FrontEvaluation.measuredClocks(clocks)
                  + FrontEvaluation.table(results, missing: missing))
            if let report {
                let settings = RunSettings(title: "modnas evaluate: \(fronts)", items: [
                    ("command", CommandLine.arguments.joined(separator: " ")), ("fronts", fronts), ("error", table.errorSource),
                    ("baselines", baselineBudget > 0 ? "\(baselineBudget) architectures queried per benchmark device" : "not run")])
                try HTMLReport(settings: settings, results: results, missing: missing, rows: rows, benchmark: table, objectives: objectives)
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
        OpenBLAS.setThreadCount(threadsOption.threads)
        let (training, test) = try DatasetSource(parsing: dataset).load()
        let c = SupernetConfiguration()
        let splits = DatasetSplits(training: training, test: test, limit: 2 * c.batchSize * architectures * (steps + 1), testLimit: 0, seed: c.seed)
        let trainer = SupernetTrainer(splits: splits, configuration: c)
        let r = SupernetThroughput.measure(trainer, steps: steps, architectures: architectures)
        print("supernet C=\(c.channels) N=\(c.cellsPerStage), \(training.name) \(training.channels)×\(training.height)×\(training.width), "
              + "\(architectures) architectures × \(c.batchSize) images per step, \(threadsOption.threads) OpenBLAS thread(s)")
        print(String(format: "%d weight steps (random connected architectures, forward + backward + SGD) in %.2f s: %.0f images/s; sgemm %.1f %% of the time",
                     r.steps, r.seconds, r.imagesPerSecond, 100 * r.sgemmShare))
    }
}
