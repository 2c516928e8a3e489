import Autodiff
import DataFiles
import Datasets
import Foundation
import Proxies
import Benchmarks
import Evaluation
import Search
import SearchSpaces
import NB201Space

/// Everything `modnas rank-check` is asked to do.
public struct RankCheckRequest: Sendable {
    public var estimators: [RankEstimator] = [.proxy(.synflow)]
    /// "table" (NB201's CIFAR-10 accuracies) or "training" (stand-alone training on `dataset`).
    public var truth = "training"
    /// Architectures stratified by their number of convolutions; nil: all 15,625.
    public var architectures: Int? = 48
    public var dataset = "fashion-mnist"
    public var channels = 16
    public var cellsPerStage = 5
    /// Images of the data-dependent proxies' minibatch.
    public var batch = ProxyDefaults.batch
    public var training = StandAloneTraining()
    /// A finished supernet search, for the supernet estimator.
    public var search: String?
    public var resamples = 1_000
    public var seed: UInt64 = 0
    public var out = "modnas-rank-check"

    public init() {}
}

/// What a run checks, stored beside its rows: a rerun with the same settings resumes.
struct RankCheckSettings: Codable, Equatable {
    var columns: [String]
    var truth: String
    var architectures: [Int]
    var network: String
    var proxyData: String?
    var seed: UInt64
    /// The supernet estimator: its weights (`SupernetTrainer.weightFingerprint`) and how many
    /// validation images it is scored on. Another search's supernet is another estimator, and its
    /// rows must not be resumed.
    var supernet: String?
}

/// `modnas rank-check`: scores architectures with the estimators and the baselines, writes one
/// row per architecture to `OUT/rows.csv` as it goes (a rerun resumes), then prints the
/// agreement table (also `OUT/summary.txt`).
public struct RankCheckWorkflow {
    public let request: RankCheckRequest

    public init(_ request: RankCheckRequest) { self.request = request }

    public func run(report: (String) -> Void) throws -> String {
        let r = request
        let started = Date()
        let architectures = r.architectures.map { RankCheck.stratifiedArchitectures(count: $0, seed: r.seed) }
            ?? (0..<NB201Architecture.spaceSize).map(NB201Architecture.init(code:))
        let needsData = r.estimators.contains { $0.needsData } || r.truth == "training"
        let trainer = try r.search.map(SupernetSearchFolder.trainer)
        let splits: DatasetSplits? = try trainer?.splits ?? (needsData ? loadSplits() : nil)
        let shape = trainer.map { NB201NetworkShape(channels: $0.configuration.channels, cellsPerStage: $0.configuration.cellsPerStage) }
            ?? NB201NetworkShape(channels: r.channels, cellsPerStage: r.cellsPerStage)
        let space = NB201SearchSpace(shape: shape)
        let batch = try r.estimators.contains(where: \.needsData) ? splits.map { try ProxyData.batch($0, count: r.batch) } : nil
        // Data-free proxies on the benchmark's input against the table (as Abdelfattah et al.), else on the data's.
        let input = r.truth == "table" || splits == nil ? (shape: [3, 32, 32], classes: 10)
            : (shape: [splits!.weights.channels, splits!.weights.height, splits!.weights.width], classes: splits!.weights.classes)
        let scorer = try ProxyScorer(space: space, batch: batch, dataFreeInput: input.shape, dataFreeClasses: input.classes, seed: r.seed)
        let truth = try truthFunction(space: space, splits: splits)

        let columns = RankCheck.columns(r.estimators)
        let settings = RankCheckSettings(columns: columns, truth: truth.description, architectures: architectures.map(\.code),
                                         network: "NB201 C = \(shape.channels), N = \(shape.cellsPerStage); data-free proxies on \(scorer.dataFreeInput.map(String.init).joined(separator: "×")) input, \(scorer.dataFreeClasses) classes",
                                         proxyData: batch.map { "\($0.labels.count) images of \($0.source)" }, seed: r.seed,
                                         supernet: trainer.map { "weights \($0.weightFingerprint), \(r.training.validationImages) validation images" })
        let store = try RankCheckStore(folder: r.out, settings: settings)
        report("rank check of \(architectures.count) architectures; truth: \(truth.description)")
        report("networks: \(settings.network)" + (settings.proxyData.map { "; data-dependent proxies on \($0)" } ?? ""))
        if !store.rows.isEmpty { report("resuming: \(store.rows.count) architectures already scored in \(store.rowsPath)") }

        var rows = store.rows
        let done = Set(rows.map(\.architecture))
        let proxies = columns.compactMap { c in ZeroCostProxy.allCases.first { RankEstimator.proxy($0).description == c } }
        for (k, architecture) in architectures.enumerated() where !done.contains(architecture) {
            let t0 = Date()
            var values: [String: Double] = [:]
            for (p, v) in scorer.scores(architecture, proxies: proxies) { values[RankEstimator.proxy(p).description] = v }
            if let trainer {
                values["supernet"] = trainer.accuracy(of: architecture, on: trainer.splits.architecture, limit: r.training.validationImages)
            }
            let row = RankCheck.Row(architecture: architecture, truth: truth.accuracy(architecture), values: values, seconds: Date().timeIntervalSince(t0))
            try store.append(row)
            rows.append(row)
            if architectures.count <= 200 || (k + 1) % 500 == 0 {
                report(String(format: "%5d/%d  truth %6.2f  %@  (%.1f s)", k + 1, architectures.count, row.truth,
                              columns.map { "\($0) \(String(format: "%.4g", values[$0]!))" }.joined(separator: "  "), row.seconds))
            }
        }
        let order = Dictionary(uniqueKeysWithValues: architectures.enumerated().map { ($1, $0) })
        rows = rows.filter { order[$0.architecture] != nil }.sorted { order[$0.architecture]! < order[$1.architecture]! }
        let resamples = rows.count > 2_000 ? min(r.resamples, 100) : r.resamples
        let table = RankCheck.table(RankCheck.agreements(r.estimators, rows: rows, resamples: resamples, seed: r.seed))
        let summary = "truth: \(truth.description)\nnetworks: \(settings.network)\n" + (settings.proxyData.map { "data-dependent proxies: \($0)\n" } ?? "")
            + "intervals: 95 % percentile bootstrap over architectures, \(resamples) resamples\n" + table + "\n"
        try summary.write(toFile: store.summaryPath, atomically: true, encoding: .utf8)
        report(String(format: "scored in %@", minutesAndSeconds(Date().timeIntervalSince(started))))
        return summary
    }

    private func loadSplits() throws -> DatasetSplits {
        try ProxyData.splits(dataset: request.dataset, images: 2 * max(request.training.images, request.batch), seed: request.seed)
    }

    private func truthFunction(space: NB201SearchSpace, splits: DatasetSplits?) throws -> (description: String, accuracy: (NB201Architecture) -> Double) {
        switch request.truth {
        case "table":
            let index = try NB201Index.shipped()
            let benchmark = try NB201Benchmark.shipped(index: index, dataset: "cifar10")
            return ("\(benchmark.errorSource), as accuracy (benchmark)", { 100 - benchmark.testError[index.index(of: $0)] })
        case "training":
            guard let splits else { preconditionFailure("training truth without data") }
            let training = request.training, seed = request.seed
            guard splits.weights.count >= training.batchSize, splits.architecture.count >= 1 else {
                throw SearchError.badConfiguration("--dataset \(request.dataset) has too few images for one training batch of \(training.batchSize)")
            }
            var t = training
            t.images = min(t.images, splits.weights.count)
            t.validationImages = min(t.validationImages, splits.architecture.count)
            return ("\(t.description) of \(splits.weights.name) (measured)", { t.accuracy($0, space: space, splits: splits, seed: seed) })
        default:
            throw SearchError.badConfiguration("--truth \(request.truth): use table (NB201's CIFAR-10 accuracies) or training (stand-alone training on --dataset)")
        }
    }
}

/// A rank check's folder: `settings.json`, `rows.csv` (one row per scored architecture, appended
/// as it goes) and `summary.txt`.
struct RankCheckStore {
    let folder: String
    let columns: [String]
    let index: NB201Index
    private(set) var rows: [RankCheck.Row] = []

    var settingsPath: String { (folder as NSString).appendingPathComponent("settings.json") }
    var rowsPath: String { (folder as NSString).appendingPathComponent("rows.csv") }
    var summaryPath: String { (folder as NSString).appendingPathComponent("summary.txt") }

    /// Opens `folder`: a new one is created; one with the same settings is resumed (a row cut off
    /// by a kill is dropped); one with other settings is refused.
    init(folder: String, settings: RankCheckSettings) throws {
        self.folder = folder
        columns = settings.columns
        index = try NB201Index.shipped()
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw SearchError.badFile(reason: "--out \(folder) is a file; give a folder")
        }
        if fm.fileExists(atPath: settingsPath) {
            let stored: RankCheckSettings
            do { stored = try JSONDecoder().decode(RankCheckSettings.self, from: Data(contentsOf: URL(fileURLWithPath: settingsPath))) } catch {
                throw SearchError.badFile(reason: "\(settingsPath) is not a rank check's settings file; give another --out")
            }
            guard stored == settings else {
                throw SearchError.badFile(reason: "\(folder) holds a rank check with other settings; rerun with its flags to resume it, or give another --out")
            }
            rows = try readRows()
            return
        }
        if fm.fileExists(atPath: folder), !(try fm.contentsOfDirectory(atPath: folder)).isEmpty {
            throw SearchError.badFile(reason: "--out \(folder) already holds files that are not a rank check; give another --out")
        }
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(settings).write(to: URL(fileURLWithPath: settingsPath), options: .atomic)
        try (CSVTable.record(header) + "\n").write(toFile: rowsPath, atomically: true, encoding: .utf8)
    }

    var header: [String] { ["arch_index", "arch_string", "truth"] + columns + ["seconds"] }

    /// The stored rows, checked completely; a last line without its line end (a kill during the
    /// write) is dropped from the file.
    private func readRows() throws -> [RankCheck.Row] {
        var text = try String(contentsOfFile: rowsPath, encoding: .utf8)
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") {
            text = String(text[...cut])
            try text.write(toFile: rowsPath, atomically: true, encoding: .utf8)
        }
        let table = try CSVTable(text: text, path: rowsPath)
        guard table.header == header else {
            throw SearchError.badFile(reason: "\(rowsPath) has columns \(table.header.joined(separator: ",")), not those of its settings; give another --out")
        }
        return try table.rows.enumerated().map { line, fields in
            func fail(_ what: String) -> Error { DataFileError.badRow(path: rowsPath, line: line + 2, reason: "\(what); remove the line to score it again") }
            guard let architecture = try? NB201Architecture(parsing: fields[1]), Int(fields[0]) == index.index(of: architecture) else {
                throw fail("arch_index \(fields[0]) and arch_string \(fields[1]) do not name one NB201 architecture")
            }
            let numbers = fields.dropFirst(2).map(Double.init)
            guard numbers.allSatisfy({ $0 != nil && !$0!.isNaN }), numbers[numbers.startIndex]!.isFinite else { throw fail("a value is not a number") }
            let values = Dictionary(uniqueKeysWithValues: zip(columns, numbers.dropFirst().map { $0! }))
            return RankCheck.Row(architecture: architecture, truth: numbers.first!!, values: values, seconds: numbers.last!!)
        }
    }

    /// Appends one row and flushes it to the file.
    func append(_ row: RankCheck.Row) throws {
        let fields = ["\(index.index(of: row.architecture))", row.architecture.string, "\(row.truth)"]
            + columns.map { "\(row.values[$0]!)" } + [String(format: "%.3f", row.seconds)]
        guard let handle = FileHandle(forWritingAtPath: rowsPath) else {
            throw SearchError.badFile(reason: "cannot append to \(rowsPath); check that the folder is writable")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((CSVTable.record(fields) + "\n").utf8))
        try handle.synchronize()
    }
}
