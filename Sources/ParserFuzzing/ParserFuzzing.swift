import DataFiles
import Datasets
import DeviceModel
import Foundation
import Predictors
import Profiling
import Benchmarks
import Evaluation
import Search
import SearchSpaces
import NB201Space
import OFASpace

/// Every parser of user-supplied files behind one entry point: the libFuzzer target
/// (`Fuzz/`, run by `scripts/fuzz-parsers`) and the regression test of the inputs it found
/// call `run`. Bad input must end in a thrown error; a trap is a finding. What parses is used
/// as the tools use it (a predictor predicts, a hypernetwork gives a front), so that a file
/// that parses but is inconsistent cannot hide a crash behind the parser.
public enum ParserFuzzing {
    /// Which parser an input is for: its first byte, modulo the number of targets.
    public enum Target: UInt8, CaseIterable, Sendable {
        case architecture, csv, architectureList, fronts, idx, cifar, deviceFeatures, predictor, hypernetwork, checkpoint
    }

    /// `payload` prefixed with the byte that selects `target`.
    public static func input(_ target: Target, _ payload: Data) -> Data { Data([target.rawValue]) + payload }

    static let index = try? NB201Index.shipped()
    static let device = try? DeviceFeatures.load(ShippedData.path("Profiles/raspi4.json"))
    static let meta = try? DevicePredictor(path: ShippedData.path("Predictors/meta.json"))

    /// Runs the parser that the first byte selects on the rest of `data`.
    public static func run(_ data: Data) {
        guard let first = data.first else { return }
        let target = Target.allCases[Int(first) % Target.allCases.count]
        let payload = Data(data.dropFirst())
        let text = String(decoding: payload, as: UTF8.self)
        switch target {
        case .architecture:
            if let a = try? NB201Architecture(parsing: text) { _ = NB201Architecture(code: a.code).string }
            if let a = try? OFAArchitecture(parsing: text) { _ = OFASearchSpace().architecture(choices: OFASearchSpace().choices(of: a)).string }
        case .csv:
            _ = try? CSVTable(text: text, path: "fuzz.csv").numericColumn("arch_index")
        case .architectureList:
            _ = try? CollectionPlan.parseArchitectureList(text, path: "fuzz.txt", space: NB201SearchSpace())
            _ = try? CollectionPlan.parseArchitectureList(text, path: "fuzz.txt", space: OFASearchSpace())
        case .fronts:
            guard let index, let table = try? CSVTable(text: text, path: "fuzz.csv") else { return }
            _ = try? Fronts.rows(of: table, index: index)
        case .idx:
            // The first payload byte says where the image file ends and the label file begins.
            let bytes = [UInt8](payload.dropFirst())
            let split = min(Int(payload.first ?? 0) * 16, bytes.count)
            _ = try? IDXReader.parse(imageBytes: Array(bytes[..<split]), labelBytes: Array(bytes[split...]),
                                     images: "fuzz-images", labels: "fuzz-labels", name: "fuzz")
        case .cifar:
            _ = try? CIFAR10Reader.parse(batch: [UInt8](payload), path: "fuzz.bin")
        case .deviceFeatures:
            guard let features = try? DeviceFeatures.decode(payload, path: "fuzz.json"), let meta else { return }
            _ = (try? meta.objective(device: features))?.predictions([NB201Architecture(code: 0)], in: NB201SearchSpace())
        case .predictor:
            guard let file = try? PredictorFile.decode(payload, path: "fuzz.json") else { return }
            let objective = try? DevicePredictor(file: file).objective(device: file.kind == .meta ? device : nil)
            _ = objective?.predictions([NB201Architecture(code: 0)], in: NB201SearchSpace())
            _ = objective?.evaluate(NB201Architecture(code: 1).oneHotEncoding)
        case .hypernetwork:
            guard let index, let device, let file = try? HypernetworkFile.decode(payload, path: "fuzz.json"),
                  let generator = try? file.generator(), let searchDevice = try? file.device(device) else { return }
            _ = generator.front(for: searchDevice, preferences: 3, index: index)
        case .checkpoint:
            _ = try? SearchCheckpoint.decode(payload, path: "fuzz.json")
        }
    }
}
