import ArgumentParser
import CommandSupport
import Foundation
import ModelExport
import Profiling
import SearchSpaces

extension ModnasCommand {
    /// `modnas export-model`: architectures as ONNX files.
    struct ExportModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-model",
            abstract: "Write architectures as ONNX models (opset 13) with their weights, as deployed: batch norm folded, dead branches removed.")

        @OptionGroup var spaceOption: SpaceOption
        @Option(help: "An architecture string (repeatable).") var arch: [String] = []
        @Option(help: "File of architectures: CSV with an arch_string column (OFA: or ks,e,d,r), or one string per line.") var archs: String?
        @Option(help: "Output file of a single architecture (.onnx).") var out: String?
        @Option(help: "Output folder for several architectures (arch-<k>.onnx, k from 0 over the distinct architectures in list order).") var outDir: String?
        @Option(help: "Seed of the weights (the profiler builds networks with seed 0).") var seed: UInt64 = 0
        @Option(help: "Batch size of the model's input.") var batch = 1
        @OptionGroup(title: "Network shape") var shapeOption: ShapeOption

        func validate() throws {
            guard (arch.isEmpty) != (archs == nil) else { throw ValidationError("give --arch (repeatable) or --archs FILE, not both") }
            guard (out == nil) != (outDir == nil) else { throw ValidationError("give --out FILE for one architecture or --out-dir DIR for several") }
            guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
            _ = try shapeOption.searchSpace(spaceOption.space)
        }

        func run() throws {
            try export(in: try shapeOption.searchSpace(spaceOption.space))
        }

        func export<S: SearchSpace>(in space: S) throws {
            // Each distinct architecture once, in list order (a fronts file repeats them across devices).
            var seen = Set<String>()
            let architectures = try (archs.map { try CollectionPlan.readArchitectureList($0, space: space) } ?? arch.map(space.parse))
                .filter { seen.insert(space.string(of: $0)).inserted }
            guard !architectures.isEmpty else { throw ValidationError("\(archs ?? "--arch") holds no architecture") }
            let paths: [String]
            if let out {
                guard architectures.count == 1 else { throw ValidationError("\(architectures.count) architectures need --out-dir DIR, not --out") }
                paths = [out]
            } else {
                try FileManager.default.createDirectory(atPath: outDir!, withIntermediateDirectories: true)
                paths = architectures.indices.map { (outDir! as NSString).appendingPathComponent("arch-\($0).onnx") }
            }
            for written in try NetworkExport.write(architectures, space: space, to: paths, seed: seed, batch: batch) {
                print(written.summary)
            }
        }
    }
}
