import Autodiff
import DataFiles
import Datasets
import DeviceModel
import Foundation
import Predictors
import ProfileStore
import Proxies
import Reports
import Benchmarks
import Evaluation
import Search
import SearchSpaces
import NB201Space

/// What the hypernetwork reads from the supernet after the warm-up.
public enum SupernetObjective: String, CaseIterable, Sendable {
    /// The accuracy surrogate fitted each epoch on the supernet's estimates of K sampled architectures.
    case fitted
    /// The paper's: the supernet's cross-entropy through the hypernetwork's relaxed sample.
    case crossEntropy = "cross-entropy"

    /// The objective a search uses: the one given, else the paper's with `--paper` and fitted without.
    public static func resolved(_ given: SupernetObjective?, paper: Bool) -> SupernetObjective {
        given ?? (paper ? .crossEntropy : .fitted)
    }
}

/// The proxy mode's defaults: the minibatch of the data-dependent proxies.
public enum ProxyDefaults {
    public static let batch = 64
}

/// The supernet mode's default size: about 10 minutes on this 2-core VM (see docs/supernet.md).
public enum SupernetDefaults {
    public static let epochs = 8
    public static let trainingImages = 0
    public static let testImages = 1_000
    public static let hypernetworkLearningRate: Float = 3e-3
    /// Architecture images that score each of the K architectures of the fitted objective.
    public static let validationImages = 1_000
}

/// Everything `modnas search` is asked to do; nil fields take the mode's default.
public struct SearchRequest: Sendable {
    public var deviceFeatures = "Profiles"
    public var space = SpaceName.nb201
    public var predictors = "Predictors"
    public var metaPredictor: String?
    public var accuracy = AccuracyMode.surrogate
    /// The costs beside the accuracy objective (`--objectives`).
    public var objectives = ObjectiveList.errorAndLatency
    public var database: String?
    public var heldOut: [String] = []
    public var dataset: String?
    public var queries = 200
    public var surrogateEnsemble = 3
    public var epochs: Int?
    public var stepsPerEpoch: Int?
    public var preferences = 24
    public var preferencesPerStep: Int?
    public var learningRate: Float?
    public var weightDecay: Float = 0
    public var combination = GradientCombination.minNorm
    public var constantLearningRate = false
    public var entropyWeight: Float = 0.01
    public var cosineWeight: Float = 0.01
    public var scalarization = Scalarization.linear
    public var supernet = SupernetConfiguration()
    /// nil: fitted, or the paper's cross-entropy with `paper`.
    public var supernetObjective: SupernetObjective?
    public var validationImages = SupernetDefaults.validationImages
    public var trainingImages = SupernetDefaults.trainingImages
    public var testImages = SupernetDefaults.testImages
    /// The paper's supernet configuration (C = 16, N = 5, batch 256, 100 epochs, all images).
    public var paper = false
    public var threads = 1
    public var resume = false
    public var baselineBudget = 200
    public var seed: UInt64 = 0
    public var out = "modnas-search"
    public var force = false
    public var exhaustive = false
    /// The command line, recorded in the report.
    public var command = ""

    public init() {}

    public var isSupernet: Bool { accuracy.isSupernet }
    /// The supernet's objective after the warm-up.
    public var resolvedSupernetObjective: SupernetObjective { .resolved(supernetObjective, paper: paper) }
    /// Whether the hypernetwork's accuracy objective is a surrogate (cheap enough for several
    /// preference vectors per step), not the supernet's cross-entropy.
    var readsSurrogate: Bool { !isSupernet || resolvedSupernetObjective == .fitted }
}

/// What a finished search wrote.
public struct SearchOutcome: Sendable {
    /// The HV table (evaluation.txt).
    public var table: String
    public var seconds: Double
    public var resumed: Bool
    public var files: [String]
}

/// `modnas search`: loads devices and predictors, builds the accuracy objective, trains the
/// hypernetwork epoch by epoch with checkpoints, writes fronts, hypernetwork, evaluation and report.
public struct SearchWorkflow {
    public let request: SearchRequest
    public init(_ request: SearchRequest) { self.request = request }

    /// Runs the search; `note` receives progress lines.
    public func run(note: (String) -> Void) throws -> SearchOutcome {
        try run(benchmark: request.space.shippedBenchmark(dataset: request.accuracy == .surrogate ? request.dataset : nil), note: note)
    }

    func run<B: SearchBenchmark>(benchmark: B, note: (String) -> Void) throws -> SearchOutcome {
        let r = request
        let space = benchmark.space
        let objectives = r.objectives.withLoss(of: space)
        let started = Date()
        let output = try OutputFolder(path: r.out, resume: r.resume, force: r.force)
        OpenBLAS.setThreadCount(r.threads)
        let features = try DeviceFeatures.loadAll(ShippedData.existingOrShipped(r.deviceFeatures), space: r.space)
        let database = try r.database.map { try ProfileDatabase(path: $0, readOnly: true) }
        let catalog = try DeviceCatalog(features: features, predictorDirectory: ShippedData.existingOrShipped(r.predictors),
                                        metaPredictor: r.metaPredictor, space: r.space, database: database,
                                        heldOut: Set(r.heldOut), energy: objectives.needsEnergy, progress: note)
        guard catalog.devices.contains(where: \.isTraining) else { throw SearchError.noTrainingDevices(directory: r.deviceFeatures) }
        func path(_ name: String) -> String { output.file(name) }
        let checkpoint = r.resume ? try SearchCheckpoint.load(output.checkpointPath) : nil
        if !r.resume, FileManager.default.fileExists(atPath: output.checkpointPath) {
            note("starting afresh: \(output.checkpointPath) will be replaced after the first epoch (--resume continues it instead)")
        }

        let training = catalog.devices.filter(\.isTraining)
        let (c, objective) = try makeObjective(benchmark: benchmark, trainingDevices: training.count, note: note)
        let search = try MODNASSearch(space: space, devices: catalog.devices, accuracy: objective, configuration: c, objectives: objectives)
        if let checkpoint { try search.restore(checkpoint) }
        let tableIndex = try space.tableIndexer()
        note("modnas search (\(space.name.shortName)): \(training.count) training devices (\(training.map(\.name).joined(separator: ", "))), "
             + "\(catalog.devices.count - training.count) zero-shot; accuracy: \(objective.settings); "
             + "\(c.epochs) epochs × \(c.stepsPerEpoch) steps × \(c.preferencesPerStep) preference vector(s); "
             + "objectives \(objectives)" + countedCostsNote(search)
             + ", normalised over \(NormalizationSet.description(of: space)); seed \(c.seed)")
        if let checkpoint { note("resumed from \(path("checkpoint.json")) after epoch \(checkpoint.epochs) of \(c.epochs)") }
        try output.prepare()
        // The modes whose estimate comes from data, not a benchmark, can collapse onto cells without convolutions.
        let checksCollapse = space.name == .nb201 && (r.isSupernet || r.accuracy == .proxy)
        while search.log.count < c.epochs {
            search.run(epochs: 1) { log, left in
                // During the warm-up the hypernetwork has not trained: its fronts say nothing yet,
                // and their HV is left absent rather than scored.
                guard log.meanLoss != nil else { return note(Self.progressLine(log, epochs: c.epochs, left: left, alarm: nil)) }
                let rows = training.flatMap { FrontGenerator(space: space, hypernetwork: search.hypernetwork, objectives: objectives) { $0.map { _ in nil } }
                    .front(for: $0, preferences: r.preferences, tableIndex: tableIndex) }
                log.benchmarkHypervolume = benchmark.meanBenchmarkHypervolume(rows, objectives: objectives)
                let collapse = checksCollapse ? CollapseCheck(rows: rows, trainingDevices: training.map(\.name)).alarm : nil
                note(Self.progressLine(log, epochs: c.epochs, left: left, alarm: collapse))
            }
            try search.checkpoint().write(to: output.checkpointPath)
        }
        let log = search.log
        let exhaustiveRows = r.exhaustive ? try training.flatMap { try search.exhaustiveFront(for: $0, preferences: r.preferences) ?? [] } : nil
        if let exhaustiveRows {
            note("exhaustive optimum of the search's objectives, scored on the benchmark:")
            note(FrontEvaluation.table(benchmark.evaluate(exhaustiveRows, objectives: objectives, measured: [:], baselineBudgets: [], seed: 0).results, missing: [:]))
            // Whether the objective's own optimum would raise the alarm: then the estimate, not the hypernetwork, collapses.
            if checksCollapse {
                let check = CollapseCheck(rows: exhaustiveRows, trainingDevices: training.map(\.name))
                note("exhaustive optimum's " + (check.alarm ?? check.summary))
            }
        }
        if r.isSupernet { note("scoring the fronts' architectures with the trained supernet on the test split …") }
        let rows = catalog.devices.flatMap { search.generator.front(for: $0, preferences: r.preferences, tableIndex: tableIndex) }
        let file = HypernetworkFile(search: search, latencyPredictor: catalog.meta, energyPredictor: catalog.energyMeta, log: log, rows: rows)
        let searchSeconds = Date().timeIntervalSince(started)

        let hosts = catalog.devices.filter { $0.features.source == .measured }.map(\.name)
        let measured = try database.map { db in
            try Dictionary(uniqueKeysWithValues: hosts.map { ($0, try db.latencies(device: $0, space: r.space.rawValue)) })
        } ?? [:]
        let clocks = try database.map { db in
            try Dictionary(uniqueKeysWithValues: hosts.map { ($0, try db.latencyClock(device: $0, space: r.space.rawValue)) })
        } ?? [:]
        // The baselines at --baseline-budget per device, and at MODNAS's total accuracy queries shared out over the benchmark devices.
        let modnasQueries: Int? = r.accuracy == .surrogate ? c.accuracyQueries : r.accuracy == .benchmark ? nil : 0
        let benchmarkDevices = catalog.devices.filter { benchmark.points(device: $0.name) != nil }.count
        let share = (modnasQueries ?? 0) / max(benchmarkDevices, 1)
        let budgets = r.baselineBudget > 0 ? [r.baselineBudget] + (share >= 1 && share != r.baselineBudget ? [share] : []) : []
        if r.baselineBudget > 0 { note("running the baselines (\(budgets.map(String.init).joined(separator: " and ")) queries per benchmark device) …") }
        let (results, missing) = benchmark.evaluate(rows, objectives: objectives, measured: measured, baselineBudgets: budgets, seed: c.seed)
        // The alarm (or the passed check) heads the table the command prints.
        let collapse = checksCollapse ? CollapseCheck(rows: rows, trainingDevices: training.map(\.name)) : nil
        let table = benchmark.evaluationHeading(searchEstimates: r.isSupernet || r.accuracy == .proxy)
            + FrontEvaluation.budgetLine(modnasQueries: modnasQueries, trainingDevices: training.count, baselineBudgets: budgets, benchmarkDevices: benchmarkDevices)
            + (collapse.map { ($0.alarm ?? $0.summary) + "\n" } ?? "")
            + FrontEvaluation.measuredClocks(clocks) + FrontEvaluation.table(results, missing: missing)
        var settings = RunSettings(search: file, devices: catalog.devices, seconds: searchSeconds, baselineBudget: r.baselineBudget,
                                   command: r.command, benchmark: benchmark)
        if let collapse { settings.items.append(("collapse check", collapse.alarm ?? collapse.summary)) }
        let budgetLine = FrontEvaluation.budgetLine(modnasQueries: modnasQueries, trainingDevices: training.count, baselineBudgets: budgets,
                                                    benchmarkDevices: benchmarkDevices)
        if !budgetLine.isEmpty { settings.items.append(("accuracy queries", String(budgetLine.dropFirst("accuracy queries: ".count).dropLast()))) }
        let report = HTMLReport(settings: settings, results: results, missing: missing, rows: rows, benchmark: benchmark, objectives: objectives).render()
        try output.publish { folder in
            try SearchOutput.write(rows: rows, space: space, file: file, adapted: catalog.adapted, to: folder.path)
            if let exhaustiveRows { try Fronts.write(exhaustiveRows, space: space, objectives: objectives, to: folder.file("exhaustive-fronts.csv")) }
            try (table + "\n").write(toFile: folder.file("evaluation.txt"), atomically: true, encoding: .utf8)
            try report.write(toFile: folder.file("report.html"), atomically: true, encoding: .utf8)
        }
        return SearchOutcome(table: table, seconds: searchSeconds, resumed: checkpoint != nil,
                             files: ["fronts.csv", "hypernetwork.json", "log.csv", "evaluation.txt", "report.html", "checkpoint.json"].map(path))
    }

    /// How the search differentiates its device-free costs (empty without any).
    func countedCostsNote<S>(_ search: MODNASSearch<S>) -> String {
        let fits = search.objectives.countedCosts.map { cost in
            let worst = search.countedCosts[cost]!.worstRelativeError
            return "\(cost.rawValue) differentiated as a linear fit to the space's counts (worst relative error \(String(format: "%.1e", worst)))"
        }
        return fits.isEmpty ? "" : " (" + fits.joined(separator: "; ") + ")"
    }

    /// One epoch's progress line, with the collapse alarm under it.
    static func progressLine(_ log: EpochLog, epochs: Int, left: Double, alarm: String?) -> String {
        String(format: "epoch %d/%d", log.epoch, epochs)
            + (log.meanLoss.map { String(format: "  loss %.4f", $0) } ?? "  warm-up (supernet only)")
            + (log.supernetLoss.map { String(format: "  supernet CE %.4f", $0) } ?? "")
            + (log.predictedHypervolume.map { String(format: "  HV predicted %.4f", $0) } ?? "")
            + (log.benchmarkHypervolume.map { String(format: "  HV benchmark %.4f", $0) } ?? "")
            + "  elapsed \(minutesAndSeconds(log.seconds))  ETA \(minutesAndSeconds(left))"
            + (alarm.map { "\n  \($0)" } ?? "")
    }

    /// The search settings and the accuracy objective of the chosen mode.
    func makeObjective<B: SearchBenchmark>(benchmark: B, trainingDevices: Int, note: (String) -> Void) throws -> (SearchConfiguration, any AccuracyObjective<B.Space.Architecture>) {
        let r = request
        var c = SearchConfiguration()
        c.epochs = r.epochs ?? (r.isSupernet ? (r.paper ? 100 : SupernetDefaults.epochs) : 20)
        c.preferences = r.preferences
        c.preferencesPerStep = r.preferencesPerStep ?? (r.readsSurrogate ? 8 : 1)
        let rate = r.learningRate ?? (r.isSupernet ? SupernetDefaults.hypernetworkLearningRate : 1e-3)
        c.learningRate = rate > 0 ? rate : nil
        c.weightDecay = r.weightDecay
        c.combination = r.combination
        c.cosineSchedule = !r.constantLearningRate
        c.entropyWeight = r.entropyWeight
        c.cosineWeight = r.cosineWeight
        // Linear is stored as absent: files of linear searches read as before the choice.
        c.scalarization = r.scalarization == .linear ? nil : r.scalarization
        c.surrogateEnsemble = r.surrogateEnsemble
        c.seed = r.seed
        c.accuracyQueries = r.queries
        switch r.accuracy {
        case .surrogate:
            c.stepsPerEpoch = r.stepsPerEpoch ?? 100
            c.dataset = r.dataset ?? benchmark.dataset
            let surrogate = try benchmark.surrogate(queries: r.queries, seed: r.seed, ensembleSize: r.surrogateEnsemble)
            return (c, try SurrogateAccuracy(surrogate, space: benchmark.space, chanceGate: benchmark.chanceGate))
        case .benchmark:
            c.stepsPerEpoch = r.stepsPerEpoch ?? 100
            c.dataset = benchmark.dataset
            guard let objective = try benchmark.differentiableAccuracy() else {
                throw SearchError.badConfiguration("--accuracy benchmark needs a differentiable benchmark accuracy; \(benchmark.space.name) has a table only: use --accuracy surrogate")
            }
            return (c, objective)
        case .proxy:
            c.stepsPerEpoch = r.stepsPerEpoch ?? 100
            if let surrogate = try benchmark.trainingFreeSurrogate(count: r.queries, seed: r.seed, ensembleSize: r.surrogateEnsemble) {
                c.dataset = benchmark.dataset
                return (c, try SurrogateAccuracy(surrogate, space: benchmark.space, mode: .proxy, chanceGate: benchmark.chanceGate))
            }
            c.dataset = r.dataset ?? "fashion-mnist"
            let splits = try ProxyData.splits(dataset: c.dataset, images: 2 * ProxyDefaults.batch, seed: r.seed)
            let scorer = try ProxyScorer(space: benchmark.space, batch: try ProxyData.batch(splits, count: ProxyDefaults.batch), seed: r.seed)
            let surrogate = ProxySurrogate.fit(scorer: scorer, count: r.queries, voters: ZeroCostProxy.voters, seed: r.seed,
                                               ensembleSize: r.surrogateEnsemble) { k in
                if k % 50 == 0 || k == r.queries { note("scored \(k) of \(r.queries) architectures with the proxies") }
            }
            return (c, try SurrogateAccuracy(surrogate, space: benchmark.space, mode: .proxy, chanceGate: benchmark.chanceGate))
        case .supernet, .supernetProxy:
            guard let nb201 = benchmark as? NB201Benchmark else {
                throw SearchError.badConfiguration("--accuracy \(r.accuracy.rawValue) trains an NB201 supernet; for \(benchmark.space.name) use --accuracy surrogate or benchmark")
            }
            let (sc, objective) = try supernetObjective(trainingDevices: trainingDevices, configuration: c, benchmark: nb201, note: note)
            return (sc, objective as! any AccuracyObjective<B.Space.Architecture>)
        }
    }

    /// The supernet mode's objective and the configuration it fixes (steps per epoch, data set).
    func supernetObjective(trainingDevices: Int, configuration: SearchConfiguration, benchmark: NB201Benchmark,
                           note: (String) -> Void) throws -> (SearchConfiguration, SupernetAccuracy) {
        let r = request
        var c = configuration
        c.dataset = r.dataset ?? "fashion-mnist"
        let (train, test) = try DatasetSource(parsing: c.dataset).load()
        var s = r.supernet
        s.seed = r.seed
        if r.paper {
            (s.channels, s.cellsPerStage, s.batchSize, s.augment) = (16, 5, 256, train.channels == 3 && train.height == 32)
            s.sharedKernels = true
        }
        let images = r.paper || r.trainingImages == 0 ? train.count : min(r.trainingImages, train.count)
        guard images / 2 >= s.batchSize * trainingDevices else {
            throw SearchError.badConfiguration("--training-images \(images) leave fewer weight images than one step needs (\(trainingDevices) devices × --batch-size \(s.batchSize)); use more images or a smaller --batch-size")
        }
        let splits = DatasetSplits(training: train, test: test, limit: images, testLimit: r.testImages == 0 ? nil : r.testImages, seed: r.seed)
        var fit: SupernetFit?
        if r.resolvedSupernetObjective == .fitted {
            let architectures = ProxySurrogate.connectedSample(of: NB201SearchSpace(), count: r.queries, seed: r.seed)
            fit = SupernetFit(architectures: architectures, validationImages: r.validationImages, ensembleSize: r.surrogateEnsemble)
            if r.accuracy == .supernetProxy {
                // The proxies score the architectures at the supernet's network configuration.
                let shape = NB201NetworkShape(channels: s.channels, cellsPerStage: s.cellsPerStage, resolution: train.height,
                                              inputChannels: train.channels, classes: train.classes)
                let scorer = try ProxyScorer(space: NB201SearchSpace(shape: shape), batch: try ProxyData.batch(splits, count: ProxyDefaults.batch), seed: r.seed)
                fit?.proxyMeanRanks = ProxySurrogate.voteMeanRanks(scorer: scorer, architectures: architectures, voters: ZeroCostProxy.voters) { k in
                    if k % 50 == 0 || k == architectures.count { note("scored \(k) of \(architectures.count) architectures with the proxies") }
                }
                fit?.proxyDescription = ProxySurrogate.description(scorer: scorer, voters: ZeroCostProxy.voters, count: architectures.count)
                    + " (C = \(s.channels), N = \(s.cellsPerStage))"
            }
        } else if r.accuracy == .supernetProxy {
            throw SearchError.badConfiguration("--accuracy supernet+proxy fits the surrogate on both estimates; it cannot use --supernet-objective cross-entropy")
        }
        let objective = SupernetAccuracy(trainer: SupernetTrainer(splits: splits, configuration: s), devices: trainingDevices,
                                         evaluationImages: splits.test.count, fit: fit)
        c.stepsPerEpoch = objective.stepsPerEpoch
        return (c, objective)
    }
}

/// "1m05s".
public func minutesAndSeconds(_ seconds: Double) -> String { String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }
