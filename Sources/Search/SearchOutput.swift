import Foundation
import Predictors

/// The files a search writes into its output folder.
public enum SearchOutput {
    /// `fronts.csv`, `hypernetwork.json`, `log.csv` and `predictor-<device>.json` for each adapted predictor.
    public static func write(rows: [FrontRow], file: HypernetworkFile, adapted: [String: PredictorFile], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        try Fronts.write(rows, to: path("fronts.csv"))
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
