import Autodiff
import DataFiles
import SpaceCore
import Foundation

/// HW-GPT-Bench's perplexity MLP for the "s" space (`hwgpt/predictors/metric/net.py`, trained on the
/// 10,000 table architectures; shipped as `Devices/hwgpt/perplexity_predictor.json.gz`): 80 → 128 →
/// 128 → 128 → 128 → 1, ReLU between layers, output the raw perplexity. Its numbers are the
/// benchmark's estimates, never measurements: they are labelled `GPTPerplexityPredictor.label`.
public struct GPTPerplexityPredictor: Sendable {
    public static let label = "OpenWebText perplexity, HW-GPT-Bench's perplexity predictor"
    public static let shippedFile = "Devices/hwgpt/perplexity_predictor.json.gz"
    static let format = "hwgpt-perplexity-predictor.v1"
    static let widths = [GPTArchitecture.encodingWidth, 128, 128, 128, 128, 1]

    struct File: Decodable {
        struct Layer: Decodable {
            var weight: [[Float]]
            var bias: [Float]
        }
        var format: String
        var input_dim: Int
        var layers: [Layer]
    }

    let network: DenseReLUNetwork

    /// Reads and checks the predictor at `path`: format, input width, layer shapes, finite weights.
    public init(path: String) throws {
        let file = try GzipFile.decodeJSON(File.self, path: path, what: "a GPT perplexity predictor file")
        guard file.format == Self.format, file.input_dim == Self.widths[0] else {
            throw DataFileError.corrupt(path: path, reason: "format '\(file.format)' with \(file.input_dim) inputs, expected \(Self.format) with \(Self.widths[0])")
        }
        do { network = try DenseReLUNetwork(widths: Self.widths, weights: file.layers.map(\.weight), biases: file.layers.map(\.bias)) } catch {
            throw DataFileError.corrupt(path: path, reason: "\(error)")
        }
    }

    /// The shipped predictor.
    public static func shipped() throws -> GPTPerplexityPredictor { try GPTPerplexityPredictor(path: ShippedData.path(shippedFile)) }

    /// Predicted perplexity of encodings [n, 80] (`GPTArchitecture.encoding`), taped.
    public func perplexity(_ encodings: Variable) -> Variable { network(encodings) }

    /// Predicted perplexity of each architecture.
    public func perplexity(_ architectures: [GPTArchitecture]) -> [Double] {
        guard !architectures.isEmpty else { return [] }
        let rows = Tensor(shape: [architectures.count, GPTArchitecture.encodingWidth], scalars: architectures.flatMap(\.encoding))
        return withoutTape { perplexity(Variable(rows)).value.scalars.map(Double.init) }
    }
}

extension GPTPerplexityPredictor: BenchmarkLossModel {
    public var label: String { Self.label }

    public func loss(_ encodings: Variable) -> Variable { perplexity(encodings) }
}
