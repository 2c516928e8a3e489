import Autodiff
import DataFiles
import Foundation
import Testing
import SearchSpaces
@testable import NB201Space

@Suite struct NB201ArchitectureTests {
    @Test func shippedIndexRoundTripsEveryArchitecture() throws {
        let index = try NB201Index.shipped()
        #expect(index.architectures.count == 15_625)
        let table = try CSVTable(contentsOf: ShippedData.path(NB201Index.shippedTable))
        let strings = try table.column("arch_string")
        for (i, arch) in index.architectures.enumerated() {
            #expect(arch.string == strings[i])
            #expect((try NB201Architecture(parsing: arch.string)) == arch)
            #expect(index.index(of: arch) == i)
            #expect(NB201Architecture(code: arch.code) == arch)
        }
        #expect(Set(index.architectures.map(\.code)).count == 15_625)
    }

    @Test func referenceArchitecturesHaveTheirOfficialIndices() throws {
        let index = try NB201Index.shipped()
        let refs = try CSVTable(contentsOf: ShippedData.path("Devices/nb201/reference_archs.csv"))
        for (i, s) in zip(try refs.column("arch_index"), try refs.column("arch_string")) {
            let arch = try NB201Architecture(parsing: s)
            #expect(index.index(of: arch) == Int(i))
        }
    }

    @Test(arguments: [
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|conv_5x5~2|", "unknown operation 'conv_5x5'"),
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|", "found 2 node groups"),
        ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 incoming edges, need 2"),
        ("|nor_conv_3x3~1|+|none~0|skip_connect~1|+|none~0|none~1|none~2|", "must come from node 0"),
        ("nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|", "must start and end with '|'"),
        ("|nor_conv_3x3|+|none~0|skip_connect~1|+|none~0|none~1|none~2|", "is not op~source"),
        ("", "must start and end"),
    ])
    func malformedStringsAreRejectedWithTheFormat(input: String, problem: String) {
        do {
            _ = try NB201Architecture(parsing: input)
            Issue.record("accepted \(input)")
        } catch let error as ArchitectureFormatError {
            #expect(error.description.contains(problem), "\(error)")
            #expect(error.description.contains("|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"))
            #expect(!error.description.contains("\n"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func oneHotEncodingMarksOneOperationPerEdge() throws {
        let arch = try NB201Architecture(parsing: "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|")
        let v = arch.oneHotEncoding
        #expect(v.count == 30 && v.reduce(0, +) == 6)
        #expect(v[0 * 5 + 4] == 1 && v[1 * 5 + 0] == 1 && v[2 * 5 + 1] == 1 && v[3 * 5 + 2] == 1 && v[5 * 5 + 3] == 1)
    }

    @Test func samplerIsSeededUniformAndDistinct() {
        let a = NB201Sampler.distinct(count: 500, seed: 3), b = NB201Sampler.distinct(count: 500, seed: 3)
        #expect(a == b)
        #expect(Set(a).count == 500)
        #expect(a != NB201Sampler.distinct(count: 500, seed: 4))
        // Each op should appear on edge 0 about 100 times in 500 uniform draws.
        for op in NB201Operation.allCases {
            let n = a.filter { $0.operations[0] == op }.count
            #expect(n > 60 && n < 140, "\(op): \(n)")
        }
        #expect(NB201Sampler.distinct(count: 20_000, seed: 1).count == 15_625)
    }
}

@Suite struct NB201NetworkTests {
    let allConv3x3 = NB201Architecture(operations: Array(repeating: .conv3x3, count: 6))
    let allNone = NB201Architecture(operations: Array(repeating: .none, count: 6))

    /// NAS-Bench-201 (Dong & Yang, ICLR 2020) reports CIFAR-10 networks between 0.073 and
    /// 1.531546 M parameters and 7.78 and 220.11 M FLOPs (multiply–accumulates).
    @Test func costsMatchNASBench201Figures() {
        let big = ArchitectureCost(allConv3x3), small = ArchitectureCost(allNone)
        #expect(big.parameters == 1_531_546)
        #expect(abs(Double(big.multiplyAccumulates) / 1e6 - 220.11) < 0.02)
        #expect(abs(Double(small.parameters) / 1e6 - 0.073) < 0.001)
        #expect(abs(Double(small.multiplyAccumulates) / 1e6 - 7.78) < 0.01)
    }

    @Test(arguments: [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ])
    func builtNetworkHasTheCountedParameters(_ string: String) throws {
        let arch = try NB201Architecture(parsing: string)
        for shape in [NB201NetworkShape.benchmark, NB201NetworkShape(channels: 8, cellsPerStage: 2, resolution: 28, inputChannels: 1)] {
            #expect(NB201Network(arch, shape: shape).parameterCount == ArchitectureCost(arch, shape: shape).parameters)
        }
    }

    @Test func inferenceProducesLogitsForEachImage() {
        let shape = NB201NetworkShape(channels: 8, cellsPerStage: 1, resolution: 16, inputChannels: 3, classes: 7)
        let net = NB201Network(allConv3x3, shape: shape, seed: 1)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.uniform(shape: [2, 3, 16, 16], using: &rng)
        let logits = net.infer(x)
        #expect(logits.shape == [2, 7])
        #expect(logits.scalars.allSatisfy { $0.isFinite })
        // The second image alone gives the same logits: inference uses running statistics.
        let single = net.infer(Tensor(shape: [1, 3, 16, 16], scalars: Array(x.scalars[(3 * 256)...])))
        #expect(single.maxAbsDifference(Tensor(shape: [1, 7], scalars: Array(logits.scalars[7...]))) < 1e-4)
        // Same seed, same network.
        #expect(NB201Network(allConv3x3, shape: shape, seed: 1).infer(x) == logits)
    }

    @Test func noneEdgesBuildNothingAndDeadCellsOutputZero() {
        let shape = NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8)
        let net = NB201Network(allNone, shape: shape)
        #expect(net.stages.allSatisfy { $0.allSatisfy { $0.convs.allSatisfy { $0 == nil } } })
        var rng = SeededGenerator(seed: 5)
        let cell = net.stages[0][0]
        let out = cell(Variable(Tensor.uniform(shape: [1, 4, 8, 8], using: &rng)), normalization: .running)
        #expect(out.value == Tensor(zeros: [1, 4, 8, 8]))
    }

    @Test func aSmallNetworkLearnsToSeparateTwoClasses() {
        let shape = NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8, inputChannels: 1, classes: 2)
        let net = NB201Network(try! NB201Architecture(parsing: "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|skip_connect~2|"), shape: shape, seed: 3)
        var images = [Float](), labels = [Int]()
        for i in 0..<8 {
            let left = i % 2 == 0
            for _ in 0..<8 { for x in 0..<8 { images.append((x < 4) == left ? 1 : -1) } }
            labels.append(left ? 0 : 1)
        }
        let x = Variable(Tensor(shape: [8, 1, 8, 8], scalars: images))
        let sgd = SGD(parameters: net.parameters, learningRate: 0.05, momentum: 0.9)
        var losses: [Float] = []
        for _ in 0..<30 {
            zeroGradients(net.parameters)
            let loss = crossEntropy(net(x, training: true), labels: labels)
            loss.backward()
            sgd.step()
            losses.append(loss.value.scalars[0])
        }
        #expect(losses.last! < 0.3 * losses.first!)
    }
}

@Suite struct StackedWeightCacheTests {
    /// Inference reuses stacked weights, but never after a weight has changed.
    @Test func inferenceSeesWeightUpdates() throws {
        let arch = NB201Architecture(operations: Array(repeating: .conv3x3, count: 6))
        let shape = NB201NetworkShape(channels: 4, cellsPerStage: 1, resolution: 8)
        let net = NB201Network(arch, shape: shape, seed: 1)
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.uniform(shape: [1, 3, 8, 8], using: &rng)
        let before = net.infer(x)
        #expect(net.infer(x) == before)
        let w = net.stages[0][0].convs[0]!.conv.weight
        w.value.scalars[0] += 1
        let after = net.infer(x)
        #expect(after != before)
        // The taped eval-mode forward (which stacks afresh) agrees with the cached inference.
        let taped = net(Variable(x), training: false).value
        #expect(taped.maxAbsDifference(after) < 1e-5)
    }
}
