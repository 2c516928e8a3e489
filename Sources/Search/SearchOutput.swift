import DataFiles
import Foundation
import Predictors
import SearchSpaces

/// The files a search writes into its output folder.
public enum SearchOutput {
    /// `fronts.csv`, `hypernetwork.json`, `log.csv` and `predictor-<device>.json` for each adapted predictor.
    public static func write<S: SearchSpace>(rows: [FrontRow], space: S, file: HypernetworkFile, adapted: [String: PredictorFile],
                                             to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        try Fronts.write(rows, space: space, objectives: file.objectiveList, to: path("fronts.csv"))
        try file.write(to: path("hypernetwork.json"))
        for (device, predictor) in adapted { try predictor.write(to: path("predictor-\(device).json")) }
        try logCSV(file.log).write(toFile: path("log.csv"), atomically: true, encoding: .utf8)
    }

    /// One line per epoch: loss, HV under the search's objectives and against the benchmark,
    /// supernet loss, time (empty cells: not computed in this mode).
    public static func logCSV(_ log: [EpochLog]) -> String {
        func cell(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "" }
        return (["epoch,mean_loss,predicted_hv,benchmark_hv,supernet_loss,seconds"] + log.map {
            [String($0.epoch), cell($0.meanLoss), cell($0.predictedHypervolume), cell($0.benchmarkHypervolume), cell($0.supernetLoss),
             String(format: "%.1f", $0.seconds)].joined(separator: ",")
        }).joined(separator: "\n") + "\n"
    }
}

/// A search's output folder, replaced whole at the end of a run: the results are written into a
/// fresh folder beside it, which then takes its place, so a failure (a full disk, a kill) never
/// leaves `fronts.csv` of one run beside `report.html` of another. During the run the folder
/// holds only `checkpoint.json`, so an interrupted search can be resumed from it.
public struct OutputFolder: Sendable {
    public let path: String
    public static let checkpointName = "checkpoint.json"

    /// Checks `path` before anything runs: it must be missing or empty, unless `resume` (its
    /// checkpoint is read next) or `force` (what it holds is replaced) says otherwise.
    public init(path: String, resume: Bool, force: Bool) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw SearchError.badFile(reason: "--out \(path) is a file; give a folder") }
        let contents = try FileManager.default.contentsOfDirectory(atPath: path)
        if !resume && !force && !contents.isEmpty {
            throw SearchError.badFile(reason: "--out \(path) already holds \(contents.count) files; give --force to replace them, --resume to continue its search, or another --out")
        }
    }

    public var checkpointPath: String { file(Self.checkpointName) }

    /// `name` inside the folder.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Creates the folder (for the checkpoints) if it is missing.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Runs `write` on a fresh folder beside this one (with the latest checkpoint copied in), then
    /// moves it into place. When `write` fails, the fresh folder is removed and this one is left
    /// as it was, checkpoint included.
    public func publish(_ write: (OutputFolder) throws -> Void) throws {
        let token = UUID().uuidString.prefix(8)
        func beside(_ role: String) -> String {
            (FilePath.folder(of: path) as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).\(role)-\(token)")
        }
        let staging = OutputFolder(unchecked: beside("partial"))
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: staging.path, withIntermediateDirectories: true)
            if fm.fileExists(atPath: checkpointPath) { try fm.copyItem(atPath: checkpointPath, toPath: staging.checkpointPath) }
            try write(staging)
        } catch {
            try? fm.removeItem(atPath: staging.path)
            throw error
        }
        let replaced = beside("replaced")
        if fm.fileExists(atPath: path) { try fm.moveItem(atPath: path, toPath: replaced) }
        do { try fm.moveItem(atPath: staging.path, toPath: path) } catch {
            try? fm.moveItem(atPath: replaced, toPath: path)
            throw error
        }
        try? fm.removeItem(atPath: replaced)
    }

    private init(unchecked path: String) { self.path = path }
}
