import Autodiff
import Datasets
import Foundation
import Testing
import SearchSpaces
@testable import NB201Space

@Suite struct SupernetTests {
    static let shape = NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8, inputChannels: 1, classes: 4)

    func oneHot(_ architecture: NB201Architecture) -> Variable {
        Variable(Tensor(shape: [6, 5], scalars: architecture.oneHotEncoding), requiresGrad: true)
    }

    @Test(arguments: [false, true])
    func onlyTheSampledOperationsRunAndGetGradient(sharedKernels: Bool) throws {
        let net = NB201Supernet(shape: Self.shape, seed: 1, sharedKernels: sharedKernels)
        var rng = SeededGenerator(seed: 2)
        let arch = try NB201Architecture(parsing: "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|")
        let d = oneHot(arch)
        let images = Variable(.uniform(shape: [3, 1, 8, 8], low: 0, high: 1, using: &rng))
        crossEntropy(net(images, sample: d), labels: [0, 1, 2]).backward()
        // D gets gradient exactly on the sampled entries that carry an operation (not `none`).
        for e in 0..<6 {
            for o in 0..<5 {
                let g = d.grad!.scalars[e * 5 + o]
                let live = o == arch.operations[e].rawValue && arch.operations[e] != .none
                #expect(live ? g != 0 : g == 0, "edge \(e) op \(o): \(g)")
            }
        }
        // Conv weights: only the sampled kernel of each edge (cell edges 0, 4 and 5 in every stage);
        // with shared kernels a 1×1 edge trains only the centre taps of its 3×3 kernel.
        for stage in net.cells {
            for (e, edge) in stage[0].enumerated() {
                let op = arch.operations[e], grad = edge.conv3x3.conv.weight.grad
                switch edge.oneByOne {
                case .own(let conv1x1):
                    #expect((grad != nil) == (op == .conv3x3))
                    #expect((conv1x1.conv.weight.grad != nil) == (op == .conv1x1))
                case .shared:
                    #expect((grad != nil) == (op == .conv3x3 || op == .conv1x1))
                    guard op == .conv1x1, let grad else { continue }
                    for (i, g) in grad.scalars.enumerated() {
                        #expect(i % 9 == 4 ? g != 0 : g == 0, "edge \(e) tap \(i % 9): \(g)")
                    }
                }
            }
        }
    }

    @Test(arguments: [false, true])
    func sharedKernelsMakeTheOneByOneTheCentreOfTheThreeByThree(sharedKernels: Bool) throws {
        let net = NB201Supernet(shape: Self.shape, seed: 6, sharedKernels: sharedKernels)
        var rng = SeededGenerator(seed: 7)
        let d = oneHot(try NB201Architecture(parsing: "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"))
        let images = Variable(.uniform(shape: [4, 1, 8, 8], low: 0, high: 1, using: &rng))
        func logits() -> [Float] { withoutTape { net(images, sample: d).value.scalars } }
        let before = logits()
        let weight = net.cells[0][0][0].conv3x3.conv.weight
        weight.value.scalars[0] += 0.5
        #expect(logits() == before, "an outer tap of the 3×3 kernel moved the 1×1 convolution")
        weight.value.scalars[4] += 0.5
        #expect((logits() != before) == sharedKernels, "the centre tap of the 3×3 kernel is the 1×1 convolution only when shared")
    }

    @Test func sharedWeightsLearnOnSyntheticImages() {
        let net = NB201Supernet(shape: Self.shape, seed: 3)
        let data = SyntheticDataset.make(count: 64, classes: 4, channels: 1, size: 8, seed: 4)
        var rng = SeededGenerator(seed: 5)
        let sgd = SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9)
        let archs = [NB201Architecture(code: 7000), NB201Architecture(code: 15000), NB201Architecture(code: 3210)]
            .filter { $0.operations.contains(.conv3x3) || $0.operations.contains(.conv1x1) }
        func loss() -> Float {
            withoutTape { archs.map { crossEntropy(net(Variable(data.batch(Array(0..<64), using: &rng).images), sample: oneHot($0)).value, labels: data.labels) }.reduce(0, +) }
        }
        let before = loss()
        for step in 0..<30 {
            zeroGradients(net.parameters)
            let (x, y) = data.batch((0..<16).map { (step * 16 + $0) % 64 }, using: &rng)
            crossEntropy(net(Variable(x), sample: oneHot(archs[step % archs.count])), labels: y).backward()
            sgd.step()
        }
        #expect(loss() < 0.7 * before, "CE \(before) → \(loss())")
    }
}
