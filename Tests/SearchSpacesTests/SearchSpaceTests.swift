import Autodiff
import DataFiles
import Foundation
import Testing
import SearchSpaces
@testable import NB201Space
@testable import OFASpace

/// The seam: both spaces behind `SearchSpace`, checked through the protocol alone.
@Suite struct SearchSpaceSeamTests {
    /// Choices round-trip, strings round-trip, samples are seeded and distinct, the one-hot is
    /// what the relaxed encoding makes of a one-hot input.
    func checkSeam<S: SearchSpace>(_ space: S) throws {
        let samples = space.sample(count: 50, seed: 7)
        #expect(samples.count == 50 && Set(samples).count == 50)
        #expect(space.sample(count: 50, seed: 7) == samples)
        #expect(space.sample(count: 50, seed: 8) != samples)
        for a in samples {
            #expect(try space.parse(space.string(of: a)) == a)
            let c = space.choices(of: a)
            #expect(c.count == space.decisions.count)
            #expect(space.architecture(choices: c) == a)
            let relaxed = space.relaxedEncoding(Variable(Tensor(shape: [space.choiceCount], scalars: space.decisionOneHot(a)))).value
            #expect(relaxed.scalars == space.oneHotEncoding(of: a))
            #expect(relaxed.count == space.encodingWidth)
        }
        let references = try space.referenceArchitectures()
        #expect(references.map(\.position) == Array(0..<10))
        let indexer = try space.tableIndexer()
        for r in references { #expect(indexer(r.architecture) == r.index) }
    }

    @Test func nb201BehindTheSeam() throws {
        try checkSeam(NB201SearchSpace())
        #expect(NB201SearchSpace().enumeration()?.count == 15_625)
        #expect(NB201SearchSpace().decisions.count == 6)
    }

    @Test func ofaBehindTheSeam() throws {
        try checkSeam(OFASearchSpace())
        #expect(OFASearchSpace().enumeration() == nil)
        #expect(OFASearchSpace().decisions.map(\.choices.count) == Array(repeating: 3, count: 45) + [25])
    }

    /// GPT's unused layer slots are weighted by P(l ≥ 11) and P(l = 12); the gradient, layer-count
    /// probabilities included, matches finite differences.
    @Test func gptBehindTheSeam() throws {
        let space = SpaceName.gpt.space
        try checkSeam(space)
        #expect(space.enumeration() == nil && space.decisions.count == 27)
        let (p, y) = checkRelaxedEncodingGradient(space)
        #expect(abs(y.scalars[6 + 3 * 11] - p[6 + 3 * 11] * p[5]) < 1e-6)                    // slot 12's first MLP entry × P(l = 12)
        #expect(abs(y.scalars[42 + 3 * 10 + 1] - p[42 + 3 * 10 + 1] * (p[4] + p[5])) < 1e-6)   // slot 11's heads × P(l ≥ 11)
    }

    @Test func registryNamesEverySpaceAndRefusesOthers() throws {
        for name in SpaceName.allCases { #expect(name.space.name == name) }
        #expect(throws: UnknownSpaceError.self) { try SpaceName(parsing: "mobilenet") }
        #expect(throws: SpaceMismatchError.self) { try SpaceName.ofa.require("nb201", in: "x.json") }
        try SpaceName.ofa.require("ofa", in: "x.json")
    }
}

@Suite struct OFASpaceTests {
    static let example = "r224_k3e4-k5e6_k3e3-k3e3-k7e6_k5e4-k5e4_k3e6-k3e6-k3e6-k3e6_k7e3-k5e4"

    @Test func canonicalStringRoundTrips() throws {
        let a = try OFAArchitecture(parsing: Self.example)
        #expect(a.string == Self.example)
        #expect(a.depths == [2, 3, 2, 4, 2])
        #expect(a.resolution == 224)
    }

    @Test(arguments: [
        ("", "parts"), ("r224_k3e4-k5e6", "parts"), ("x224_k3e4-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "r<resolution>"),
        ("r226_k3e4-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "resolution 226"),
        ("r224_k3e4_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "stage 1 has 1 layers"),
        ("r224_k3e4-k5e6-k5e6-k5e6-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "stage 1 has 5 layers"),
        ("r224_k4e4-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "kernel size 4"),
        ("r224_k3e5-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "expand ratio 5"),
        ("r224_k3-k5e6_k3e3-k3e3_k5e4-k5e4_k3e6-k3e6_k7e3-k5e4", "not k<kernel>e<expand>"),
    ])
    func malformedStringsSayWhatIsWrongAndWhatIsExpected(text: String, problem: String) {
        do {
            _ = try OFAArchitecture(parsing: text)
            Issue.record("parsed \(text)")
        } catch {
            let message = "\(error)"
            #expect(message.contains(problem), "\(message)")
            #expect(message.contains("expected r<resolution>"))
            #expect(!message.contains("\n"))
        }
    }

    /// Every row of the shared table reads, and writes back the columns it came from on its
    /// active slots.
    @Test func everyTableRowReadsFromItsColumns() throws {
        let table = try CSVTable(contentsOf: ShippedData.path(OFASearchSpace.shippedTable))
        let all = try OFASearchSpace.shippedArchitectures()
        #expect(all.count == 5_000)
        let ks = try table.column("ks"), d = try table.column("d"), r = try table.column("r")
        for (row, a) in all.enumerated() {
            #expect(a.columns.d == d[row] && a.columns.r == r[row])
            let written = a.columns.ks.split(separator: " "), read = ks[row].split(separator: " ")
            for (s, depth) in a.depths.enumerated() {
                for p in 0..<depth { #expect(written[4 * s + p] == read[4 * s + p]) }
            }
            #expect(try OFASearchSpace().parse(a.string) == a)
        }
    }

    @Test func tableColumnsAreCheckedValueByValue() {
        let good = Array(repeating: "3", count: 20).joined(separator: " ")
        #expect(throws: ArchitectureFormatError.self) { try OFAArchitecture(kernels: "3 5", expands: good, depths: "2 2 2 2 2", resolution: "224") }
        #expect(throws: ArchitectureFormatError.self) { try OFAArchitecture(kernels: good, expands: good, depths: "2 2 2 2 5", resolution: "224") }
        #expect(throws: ArchitectureFormatError.self) { try OFAArchitecture(kernels: good, expands: good, depths: "2 2 2 2 2", resolution: "225") }
        #expect(throws: ArchitectureFormatError.self) { try OFAArchitecture(kernels: good, expands: good.replacingOccurrences(of: "3 3", with: "3 x"), depths: "2 2 2 2 2", resolution: "224") }
    }

    /// Settings of skipped slots do not change the architecture.
    @Test func skippedSlotsDoNotChangeTheArchitecture() throws {
        let threes = Array(repeating: "3", count: 20).joined(separator: " ")
        let sevens = Array(repeating: "7", count: 20).joined(separator: " ")
        var mixed = Array(repeating: "3", count: 20)
        for s in 0..<5 { mixed[4 * s + 2] = "7"; mixed[4 * s + 3] = "5" }
        let a = try OFAArchitecture(kernels: threes, expands: threes, depths: "2 2 2 2 2", resolution: "160")
        let b = try OFAArchitecture(kernels: mixed.joined(separator: " "), expands: threes, depths: "2 2 2 2 2", resolution: "160")
        #expect(a == b)
        #expect(a != (try OFAArchitecture(kernels: sevens, expands: threes, depths: "2 2 2 2 2", resolution: "160")))
    }

    /// The relaxed encoding weights a slot by P(stage deep enough); its gradient, depth
    /// probabilities included, matches finite differences.
    @Test func relaxedEncodingGradient() {
        let (p, y) = checkRelaxedEncodingGradient(OFASearchSpace())
        // A third-layer kernel entry of stage 0 is weighted by P(d ≥ 3) = 1 − P(d = 2).
        #expect(abs(y.scalars[6] - p[6] * (1 - p[120])) < 1e-6)
    }

    /// The layout's counter against MobileNetV3-Large 1.0 (Howard et al., ICCV 2019, Table 1):
    /// 5,483,032 parameters (torchvision's `mobilenet_v3_large` documentation) and 217 M
    /// multiply-adds (TensorFlow's MobileNetV3Large documentation: 217 M MACs).
    @Test func costCounterReproducesMobileNetV3Large() {
        let rows: [(Int, Int, Int, Int, Bool, MobileActivation, Int)] = [
            (3, 16, 16, 16, false, .relu, 1), (3, 16, 64, 24, false, .relu, 2), (3, 24, 72, 24, false, .relu, 1),
            (5, 24, 72, 40, true, .relu, 2), (5, 40, 120, 40, true, .relu, 1), (5, 40, 120, 40, true, .relu, 1),
            (3, 40, 240, 80, false, .hardSwish, 2), (3, 80, 200, 80, false, .hardSwish, 1), (3, 80, 184, 80, false, .hardSwish, 1),
            (3, 80, 184, 80, false, .hardSwish, 1), (3, 80, 480, 112, true, .hardSwish, 1), (3, 112, 672, 112, true, .hardSwish, 1),
            (5, 112, 672, 160, true, .hardSwish, 2), (5, 160, 960, 160, true, .hardSwish, 1), (5, 160, 960, 160, true, .hardSwish, 1),
        ]
        let layout = MobileNetV3Layout(
            resolution: 224, stemChannels: 16,
            blocks: rows.map { InvertedResidualSpec(kernel: $0.0, input: $0.1, expanded: $0.2, output: $0.3, stride: $0.6,
                                                    squeezeExcitation: $0.4, activation: $0.5) },
            finalExpandChannels: 960, featureChannels: 1280, featureBias: true, classes: 1000)
        #expect(layout.cost.parameters == 5_483_032)
        #expect(abs(Double(layout.cost.multiplyAccumulates) / 217e6 - 1) < 0.01, "\(layout.cost.multiplyAccumulates) MACs")
    }

    @Test func fixedPartsFollowOFAAtWidth1_2() {
        #expect(OFASearchSpace.stemChannels == 24)
        #expect(OFASearchSpace.stageWidths == [32, 48, 96, 136, 192])
        #expect(OFASearchSpace.finalExpandChannels == 1152 && OFASearchSpace.featureChannels == 1536)
        let largest = try! OFAArchitecture(parsing: "r224_" + Array(repeating: "k7e6-k7e6-k7e6-k7e6", count: 5).joined(separator: "_"))
        let layout = OFASearchSpace().layout(of: largest)
        #expect(layout.blocks.count == 21)
        #expect(layout.blocks[1].expanded == 144 && layout.blocks[1].stride == 2 && !layout.blocks[1].hasShortcut)
        #expect(layout.blocks[2].hasShortcut)
        #expect(layout.blocks.filter(\.squeezeExcitation).count == 12)
    }

    /// A built network runs at its resolution and gives finite logits; a larger subnetwork costs more.
    @Test func networkRunsAndCostsGrowWithTheArchitecture() throws {
        let space = OFASearchSpace()
        let small = try space.parse("r128_k3e3-k3e3_k3e3-k3e3_k3e3-k3e3_k3e3-k3e3_k3e3-k3e3")
        let network = space.makeNetwork(small, seed: 0)
        var rng = SeededGenerator(seed: 1)
        let logits = network.infer(.uniform(shape: network.inputShape(batch: 2), low: -1, high: 1, using: &rng))
        #expect(logits.shape == [2, 1000])
        #expect(logits.scalars.allSatisfy { $0.isFinite })
        let large = try space.parse("r224_k7e6-k7e6-k7e6-k7e6_k7e6-k7e6-k7e6-k7e6_k7e6-k7e6-k7e6-k7e6_k7e6-k7e6-k7e6-k7e6_k7e6-k7e6-k7e6-k7e6")
        #expect(space.cost(of: large).multiplyAccumulates > 4 * space.cost(of: small).multiplyAccumulates)
        #expect(space.cost(of: large).parameters > space.cost(of: small).parameters)
    }
}

/// A seeded relaxation, and the relaxed encoding's gradient against central finite differences
/// for a random seed vector; returns the relaxation and its encoding for spot checks.
func checkRelaxedEncodingGradient<S: SearchSpace>(_ space: S) -> (p: [Float], encoding: Tensor) {
    var rng = SeededGenerator(seed: 4)
    let p = space.randomRelaxation(using: &rng)
    let x = Variable(Tensor(shape: [space.choiceCount], scalars: p), requiresGrad: true)
    let seed = Tensor.uniform(shape: [space.encodingWidth], low: -1, high: 1, using: &rng)
    space.relaxedEncoding(x).backward(seed: seed)
    func loss(_ v: [Float]) -> Double {
        let y = space.relaxedEncoding(Variable(Tensor(shape: [v.count], scalars: v))).value
        return zip(y.scalars, seed.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    for i in 0..<p.count {
        var plus = p, minus = p
        plus[i] += 1e-2
        minus[i] -= 1e-2
        let numeric = (loss(plus) - loss(minus)) / 2e-2
        #expect(abs(numeric - Double(x.grad!.scalars[i])) < 1e-3, "\(space.name) entry \(i)")
    }
    return (p, space.relaxedEncoding(Variable(x.value)).value)
}
