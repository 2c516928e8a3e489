import Autodiff
import Foundation
import SearchSpaces

/// Architectures of a space written as ONNX models: the network the engine builds from `seed`,
/// as deployed (batch norm folded, dead branches removed).
public enum NetworkExport {
    /// What one written model holds.
    public struct Written: Sendable {
        public var path: String
        public var architecture: String
        public var operationCounts: [String: Int]

        /// "path: 12 convolution, 3 relu, …" for the command's output.
        public var summary: String {
            "\(path)  \(architecture)  " + operationCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
    }

    /// The deployed graph of `architecture`.
    public static func graph<S: SearchSpace>(_ architecture: S.Architecture, space: S, seed: UInt64, batch: Int) -> InferenceGraph {
        space.makeNetwork(architecture, seed: seed).inferenceGraph(batch: batch)
    }

    /// Writes each architecture to its path (the model's doc string is its canonical string).
    public static func write<S: SearchSpace>(_ architectures: [S.Architecture], space: S, to paths: [String], seed: UInt64,
                                             batch: Int) throws -> [Written] {
        precondition(architectures.count == paths.count, "one path per architecture")
        return try zip(architectures, paths).map { architecture, path in
            let graph = graph(architecture, space: space, seed: seed, batch: batch)
            let string = space.string(of: architecture)
            try ONNXModel.write(graph, graphName: "modnas-\(space.name.rawValue)", docString: string, to: path)
            return Written(path: path, architecture: string, operationCounts: graph.operationCounts)
        }
    }
}
