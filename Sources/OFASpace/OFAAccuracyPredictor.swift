import Autodiff
import DataFiles
import Foundation
import SpaceCore

/// Once-for-All's ImageNet top-1 accuracy predictor for its MobileNetV3 space (Cai et al., ICLR
/// 2020; weights from the authors' `acc_predictor.pth`, shipped as `Devices/ofa/accuracy_predictor.json.gz`):
/// an MLP 128 → 400 → 400 → 400 → 1 with ReLU between layers. Its numbers are estimates of a
/// benchmark predictor, never measurements: they are labelled `OFAAccuracyPredictor.label`.
///
/// Its input, for each of the 20 slots a one-hot of the kernel size at 3·slot and of the expand
/// ratio at 60 + 3·slot (zeros for a skipped slot), then a one-hot of (r − 112) div 16 at
/// 120 + bucket, is a linear map of `OFASearchSpace`'s encoding, so the predictor is differentiable
/// in the relaxed encoding too.
public struct OFAAccuracyPredictor: Sendable {
    public static let label = "ImageNet top-1, OFA accuracy predictor"
    public static let shippedFile = "Devices/ofa/accuracy_predictor.json.gz"
    static let widths = [128, 400, 400, 400, 1]

    struct File: Decodable {
        struct Layer: Decodable {
            var weight: [[Float]]
            var bias: [Float]
        }
        var format: String
        var layers: [Layer]
    }

    let network: DenseReLUNetwork
    /// OFASearchSpace encoding [choiceCount] → predictor input [128].
    let inputMap: Tensor

    /// Reads and checks the predictor at `path`: format, 4 layers of the widths above, finite weights.
    public init(path: String) throws {
        let file = try GzipFile.decodeJSON(File.self, path: path, what: "an OFA accuracy predictor file")
        guard file.format == "ofa-accuracy-predictor", file.layers.count == Self.widths.count - 1 else {
            throw DataFileError.corrupt(path: path, reason: "format '\(file.format)' with \(file.layers.count) layers, expected ofa-accuracy-predictor with 4")
        }
        do { network = try DenseReLUNetwork(widths: Self.widths, weights: file.layers.map(\.weight), biases: file.layers.map(\.bias)) } catch {
            throw DataFileError.corrupt(path: path, reason: "\(error)")
        }
        inputMap = Self.inputMap()
    }

    /// The shipped predictor.
    public static func shipped() throws -> OFAAccuracyPredictor { try OFAAccuracyPredictor(path: ShippedData.path(shippedFile)) }

    /// The 0/1 matrix from OFASearchSpace's encoding (kernel and expand parts pass through; each
    /// resolution choice goes to its bucket; depths feed nothing) to the predictor's input.
    static func inputMap() -> Tensor {
        let space = OFASearchSpace()
        let slots = OFAArchitecture.slotCount, resolutionsAt = space.choiceCount - OFAArchitecture.resolutionChoices.count
        var map = Tensor(zeros: [space.choiceCount, widths[0]])
        for i in 0..<(6 * slots) { map.scalars[i * widths[0] + i] = 1 }
        for (k, r) in OFAArchitecture.resolutionChoices.enumerated() {
            map.scalars[(resolutionsAt + k) * widths[0] + 120 + (r - 112) / 16] = 1
        }
        return map
    }

    /// Predicted top-1 (a fraction) of OFASearchSpace encodings [n, choiceCount], taped.
    public func topOne(_ encodings: Variable) -> Variable {
        network(matmul(encodings, Variable(inputMap)))
    }

    /// Predicted top-1 (a fraction) of each architecture.
    public func topOne(_ architectures: [OFAArchitecture]) -> [Double] {
        guard !architectures.isEmpty else { return [] }
        let space = OFASearchSpace()
        let rows = Tensor(shape: [architectures.count, space.choiceCount], scalars: architectures.flatMap(space.oneHotEncoding))
        return withoutTape { topOne(Variable(rows)).value.scalars.map(Double.init) }
    }

}

extension OFAAccuracyPredictor: BenchmarkLossModel {
    public var label: String { Self.label }

    /// The error (%), 100·(1 − top-1), taped.
    public func loss(_ encodings: Variable) -> Variable {
        let top1 = topOne(encodings)
        return scale(top1, by: -100) + Variable(Tensor(shape: top1.shape, scalars: [Float](repeating: 100, count: top1.value.count)))
    }

    /// 100·(1 − top-1) in Double, as the estimates were always written.
    public func losses(_ encodings: [[Float]]) -> [Double] {
        guard !encodings.isEmpty else { return [] }
        let rows = Tensor(shape: [encodings.count, encodings[0].count], scalars: encodings.flatMap { $0 })
        return withoutTape { topOne(Variable(rows)) }.value.scalars.map { 100 * (1 - Double($0)) }
    }
}
