import Autodiff
import SpaceCore
import DataFiles
import Foundation

/// A subnetwork of Once-for-All's MobileNetV3 space (Cai et al., ICLR 2020): 5 stages of 2–4
/// inverted-residual layers, each with a kernel size in {3, 5, 7} and an expand ratio in
/// {3, 4, 6}, and an input resolution. Only the layers a stage's depth keeps are part of the
/// value: settings of skipped layers do not change the network, so they do not change the value.
public struct OFAArchitecture: Hashable, Sendable, CustomStringConvertible {
    public struct Layer: Hashable, Sendable {
        public var kernel: Int
        public var expand: Int
        public init(kernel: Int, expand: Int) {
            self.kernel = kernel
            self.expand = expand
        }
    }

    public static let stageCount = 5, maxDepth = 4, slotCount = 20
    public static let kernelChoices = [3, 5, 7], expandChoices = [3, 4, 6], depthChoices = [2, 3, 4]
    /// The resolutions of the shared OFA table: 128 to 224 in steps of 4.
    public static let resolutionChoices = Array(stride(from: 128, through: 224, by: 4))
    public static let formatHelp = "r<resolution>_<stage>_<stage>_<stage>_<stage>_<stage>, each stage 2–4 layers k<kernel>e<expand> "
        + "joined by '-', kernel 3|5|7, expand 3|4|6, resolution 128…224 in steps of 4 "
        + "(e.g. r224_k3e4-k5e6_k3e3-k3e3-k7e6_k5e4-k5e4_k3e6-k3e6-k3e6-k3e6_k7e3-k5e4); "
        + "or table columns ks, e (20 values), d (5 values), r"

    /// The active layers of each stage.
    public let stages: [[Layer]]
    public let resolution: Int

    /// An architecture from its active layers; nil when a count or value is outside the space.
    public init?(stages: [[Layer]], resolution: Int) {
        guard stages.count == Self.stageCount, stages.allSatisfy({ Self.depthChoices.contains($0.count) }),
              stages.joined().allSatisfy({ Self.kernelChoices.contains($0.kernel) && Self.expandChoices.contains($0.expand) }),
              Self.resolutionChoices.contains(resolution) else { return nil }
        self.stages = stages
        self.resolution = resolution
    }

    public var depths: [Int] { stages.map(\.count) }

    /// Parses the canonical string, e.g. `r224_k3e4-k5e6_k3e3-k3e3-k7e6_…`.
    public init(parsing text: String) throws {
        func fail(_ problem: String) -> ArchitectureFormatError { ArchitectureFormatError(space: .ofa, input: text, problem: problem, expected: OFASearchSpace().formatHelp) }
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == Self.stageCount + 1 else { throw fail("found \(parts.count) '_'-separated parts, need 6") }
        guard parts[0].hasPrefix("r"), let r = Int(parts[0].dropFirst()) else { throw fail("'\(parts[0])' is not r<resolution>") }
        guard Self.resolutionChoices.contains(r) else { throw fail("resolution \(r) is not one of 128, 132, …, 224") }
        var stages: [[Layer]] = []
        for (s, group) in parts.dropFirst().enumerated() {
            let items = group.split(separator: "-", omittingEmptySubsequences: false)
            guard Self.depthChoices.contains(items.count) else { throw fail("stage \(s + 1) has \(items.count) layers, need 2–4") }
            stages.append(try items.map { item in
                let body = item.dropFirst()
                guard item.hasPrefix("k"), let e = body.firstIndex(of: "e"),
                      let k = Int(body[..<e]), let x = Int(body[body.index(after: e)...]) else {
                    throw fail("layer '\(item)' is not k<kernel>e<expand>")
                }
                guard Self.kernelChoices.contains(k) else { throw fail("kernel size \(k) is not 3, 5 or 7") }
                guard Self.expandChoices.contains(x) else { throw fail("expand ratio \(x) is not 3, 4 or 6") }
                return Layer(kernel: k, expand: x)
            })
        }
        self.init(stages: stages, resolution: r)!
    }

    /// Reads the shared table's columns: `ks` and `e` with 20 space-separated values (one per
    /// slot, skipped slots included and ignored), `d` with 5, and `r`.
    public init(kernels ks: String, expands e: String, depths d: String, resolution r: String) throws {
        let shown = "ks=\(ks) e=\(e) d=\(d) r=\(r)"
        func fail(_ problem: String) -> ArchitectureFormatError { ArchitectureFormatError(space: .ofa, input: shown, problem: problem, expected: OFASearchSpace().formatHelp) }
        func numbers(_ text: String, _ column: String, count: Int, allowed: [Int]) throws -> [Int] {
            let values = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Int($0) }
            guard values.count == count, values.allSatisfy({ $0 != nil }) else {
                throw fail("column \(column) needs \(count) space-separated integers, found \(values.count)")
            }
            guard let bad = values.compactMap({ $0 }).first(where: { !allowed.contains($0) }) else { return values.map { $0! } }
            throw fail("column \(column) holds \(bad), allowed are \(allowed.map(String.init).joined(separator: ", "))")
        }
        let kernels = try numbers(ks, "ks", count: Self.slotCount, allowed: Self.kernelChoices)
        let expands = try numbers(e, "e", count: Self.slotCount, allowed: Self.expandChoices)
        let depths = try numbers(d, "d", count: Self.stageCount, allowed: Self.depthChoices)
        guard let resolution = Int(r.trimmingCharacters(in: .whitespaces)), Self.resolutionChoices.contains(resolution) else {
            throw fail("column r holds '\(r)', allowed are 128, 132, …, 224")
        }
        let stages = depths.enumerated().map { s, depth in
            (0..<depth).map { p in Layer(kernel: kernels[s * Self.maxDepth + p], expand: expands[s * Self.maxDepth + p]) }
        }
        self.init(stages: stages, resolution: resolution)!
    }

    /// The canonical string.
    public var string: String {
        (["r\(resolution)"] + stages.map { $0.map { "k\($0.kernel)e\($0.expand)" }.joined(separator: "-") }).joined(separator: "_")
    }

    public var description: String { string }

    /// The table columns (ks, e, d, r); skipped slots are written as kernel 3, expand 3.
    public var columns: (ks: String, e: String, d: String, r: String) {
        let slots = stages.flatMap { stage in (0..<Self.maxDepth).map { $0 < stage.count ? stage[$0] : Layer(kernel: 3, expand: 3) } }
        return (slots.map { String($0.kernel) }.joined(separator: " "), slots.map { String($0.expand) }.joined(separator: " "),
                depths.map(String.init).joined(separator: " "), String(resolution))
    }
}

/// Once-for-All's MobileNetV3 space at width multiplier 1.2, the `ofa_mbv3_d234_e346_k357_w1.2`
/// supernet of ../shared/data/ofa. The fixed parts follow OFA's `OFAMobileNetV3`
/// (mit-han-lab/once-for-all, ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py):
/// base widths 16, 16, 24, 40, 80, 112, 160, 960, 1280 × 1.2 made divisible by 8; a 3×3
/// stride-2 stem with h-swish; a first block of a 3×3 depthwise separable layer (expand 1, ReLU,
/// identity shortcut); stage strides 2, 2, 2, 1, 2, activations ReLU, ReLU, h-swish, h-swish,
/// h-swish, squeeze-and-excitation in stages 2, 4 and 5; a layer's expanded width is
/// in·e made divisible by 8 (its `DynamicMBConvLayer`); a 1×1 final expansion to 1152 with BN
/// and h-swish, a 1×1 feature mix to 1536 without BN or bias, and a 1000-way classifier.
public struct OFASearchSpace: SearchSpace {
    public typealias Architecture = OFAArchitecture

    public static let width = 1.2
    public static let stageWidths = [24, 40, 80, 112, 160].map { makeDivisible(Double($0) * width, by: 8) }
    public static let stageStrides = [2, 2, 2, 1, 2]
    public static let stageActivations: [MobileActivation] = [.relu, .relu, .hardSwish, .hardSwish, .hardSwish]
    public static let stageSqueezeExcitation = [false, true, false, true, true]
    public static let stemChannels = makeDivisible(16 * width, by: 8)
    public static let finalExpandChannels = makeDivisible(960 * width, by: 8)
    public static let featureChannels = makeDivisible(1280 * width, by: 8)

    /// The shipped table: 5,000 subnetworks with their latencies on 11 GPU settings.
    public static let shippedTable = "Devices/ofa/latency_ms_train_devices.csv.gz"
    public static let shippedReferences = "Devices/ofa/reference_archs.csv"
    /// Rows of the shipped table (`arch_index` 0…4999).
    public static let tableSize = 5_000

    public init() {}

    public var title: String { "Once-for-All MobileNetV3, width 1.2 (ImageNet layout)" }
    public var tableSize: Int { Self.tableSize }
    /// The architecture carries its resolution: OFA has no shape parameters.
    public func reshaped(_ setting: NetworkShape) throws -> OFASearchSpace {
        try setting.check(known: [], space: name)
        return self
    }

    public var name: SpaceName { .ofa }
    /// Its benchmark's loss: test error (%).
    public var accuracyLoss: AccuracyLoss { .testError }
    public var shippedBenchmark: (deviceTable: String, featureTable: String) {
        ("Devices/ofa/latency_ms_train_devices.csv.gz", "Devices/ofa/device_features_ms.csv")
    }
    public var formatHelp: String { OFAArchitecture.formatHelp }

    /// 20 kernel sizes, 20 expand ratios (slot = 4·stage + layer), 5 depths, the resolution.
    public var decisions: [Decision] {
        let slots = 0..<OFAArchitecture.slotCount
        return slots.map { Decision(name: "ks \($0)", choices: OFAArchitecture.kernelChoices.map(String.init)) }
            + slots.map { Decision(name: "e \($0)", choices: OFAArchitecture.expandChoices.map(String.init)) }
            + (0..<OFAArchitecture.stageCount).map { Decision(name: "d \($0)", choices: OFAArchitecture.depthChoices.map(String.init)) }
            + [Decision(name: "r", choices: OFAArchitecture.resolutionChoices.map(String.init))]
    }

    public func parse(_ text: String) throws -> OFAArchitecture { try OFAArchitecture(parsing: text) }
    public func string(of architecture: OFAArchitecture) -> String { architecture.string }

    /// Choices per decision; a skipped slot reports choice 0.
    public func choices(of a: OFAArchitecture) -> [Int] {
        var kernels = [Int](repeating: 0, count: OFAArchitecture.slotCount), expands = kernels
        for (s, stage) in a.stages.enumerated() {
            for (p, layer) in stage.enumerated() {
                kernels[s * OFAArchitecture.maxDepth + p] = OFAArchitecture.kernelChoices.firstIndex(of: layer.kernel)!
                expands[s * OFAArchitecture.maxDepth + p] = OFAArchitecture.expandChoices.firstIndex(of: layer.expand)!
            }
        }
        return kernels + expands + a.depths.map { OFAArchitecture.depthChoices.firstIndex(of: $0)! }
            + [OFAArchitecture.resolutionChoices.firstIndex(of: a.resolution)!]
    }

    public func architecture(choices c: [Int]) -> OFAArchitecture {
        let n = OFAArchitecture.slotCount, depthsAt = 2 * n
        let stages = (0..<OFAArchitecture.stageCount).map { s in
            (0..<OFAArchitecture.depthChoices[c[depthsAt + s]]).map { p in
                OFAArchitecture.Layer(kernel: OFAArchitecture.kernelChoices[c[s * OFAArchitecture.maxDepth + p]],
                                      expand: OFAArchitecture.expandChoices[c[n + s * OFAArchitecture.maxDepth + p]])
            }
        }
        return OFAArchitecture(stages: stages, resolution: OFAArchitecture.resolutionChoices[c[depthsAt + OFAArchitecture.stageCount]])!
    }

    /// The decision one-hots in decision order, with a skipped slot's kernel and expand
    /// one-hots all zero (a skipped layer contributes nothing).
    public var encodingWidth: Int { choiceCount }
    public var predictorEncoding: ArchitectureEncoding { .ofa }
    public func benchmarkLossModel() throws -> (any BenchmarkLossModel)? { try OFAAccuracyPredictor.shipped() }

    public func oneHotEncoding(of a: OFAArchitecture) -> [Float] {
        var v = decisionOneHot(a)
        for (s, depth) in a.depths.enumerated() {
            for p in depth..<OFAArchitecture.maxDepth {
                for block in [0, 3 * OFAArchitecture.slotCount] {
                    for k in 0..<3 { v[block + 3 * (s * OFAArchitecture.maxDepth + p) + k] = 0 }
                }
            }
        }
        return v
    }

    /// The relaxed encoding: each slot's kernel and expand probabilities weighted by the
    /// probability that its stage is deep enough to keep it (1 for the first two layers,
    /// P(d ≥ 3) for the third, P(d = 4) for the fourth); depth and resolution pass through.
    public func relaxedEncoding(_ probabilities: Variable) -> Variable {
        let x = probabilities.value
        precondition(x.count == choiceCount, "OFA relaxed encoding needs \(choiceCount) probabilities, got \(x.count)")
        let n = OFAArchitecture.slotCount, depthsAt = 6 * n
        /// (weight of the slot, the depth entries it sums) for each slot.
        func keep(_ slot: Int) -> (Float, [Int]) {
            let s = slot / OFAArchitecture.maxDepth, p = slot % OFAArchitecture.maxDepth
            let entries = OFAArchitecture.depthChoices.indices.filter { OFAArchitecture.depthChoices[$0] > p }.map { depthsAt + 3 * s + $0 }
            return (entries.count == 3 ? 1 : entries.reduce(0) { $0 + x.scalars[$1] }, entries.count == 3 ? [] : entries)
        }
        let weights = (0..<n).map(keep)
        var y = x
        for slot in 0..<n {
            for block in [0, 3 * n] { for k in 0..<3 { y.scalars[block + 3 * slot + k] *= weights[slot].0 } }
        }
        return .result(y.reshaped([choiceCount]), parents: [probabilities]) { dy in
            var dx = dy.reshaped(x.shape)
            for slot in 0..<n {
                let (w, entries) = weights[slot]
                var dot: Float = 0
                for block in [0, 3 * n] {
                    for k in 0..<3 {
                        let i = block + 3 * slot + k
                        dot += dy.scalars[i] * x.scalars[i]
                        dx.scalars[i] = dy.scalars[i] * w
                    }
                }
                for e in entries { dx.scalars[e] += dot }
            }
            return [dx]
        }
    }

    /// Distinct architectures, every decision uniform (as OFA's `sample_active_subnet`, with
    /// the resolution uniform over the table's 25).
    public func sample(count: Int, seed: UInt64) -> [OFAArchitecture] {
        var rng = SeededGenerator(seed: seed)
        let counts = decisions.map { UInt64($0.choices.count) }
        var seen = Set<OFAArchitecture>(), result: [OFAArchitecture] = []
        while result.count < max(count, 0) {
            let choices = counts.map { Int(rng.next() % $0) }
            let a = architecture(choices: choices)
            if seen.insert(a).inserted { result.append(a) }
        }
        return result
    }

    /// The shipped table's architectures by row (`arch_index`), read once per process: plans,
    /// references and indexers all look into it.
    public static func shippedArchitectures() throws -> [OFAArchitecture] { try cachedArchitectures.get() }

    private static let cachedArchitectures = Result { try readShippedArchitectures() }
    /// The first table row of each architecture (a few rows could differ only in skipped slots).
    private static let shippedRows = Result {
        var rows: [OFAArchitecture: Int] = [:]
        for (row, a) in try cachedArchitectures.get().enumerated() where rows[a] == nil { rows[a] = row }
        return rows
    }

    private static func readShippedArchitectures() throws -> [OFAArchitecture] {
        let table = try CSVTable(contentsOf: ShippedData.path(shippedTable))
        let indices = try table.column("arch_index")
        guard indices.count == tableSize else { throw DataFileError.wrongRowCount(path: table.path, expected: tableSize, found: indices.count) }
        for (row, index) in indices.enumerated() where Int(index) != row {
            throw DataFileError.badValue(path: table.path, line: row + 2, column: "arch_index", value: index,
                                         expected: "\(row) (rows in order)")
        }
        return try OFASearchSpace().architectures(in: table)
    }

    public func referenceArchitectures() throws -> [ReferenceArchitecture<OFAArchitecture>] {
        try ReferenceArchitecture.read(Self.shippedReferences, table: try Self.shippedArchitectures(), tableFile: Self.shippedTable)
    }

    public func tableIndexer() throws -> (OFAArchitecture) -> Int? {
        let rows = try Self.shippedRows.get()
        return { rows[$0] }
    }

    /// The network's layout: the fixed parts (see the type) around the architecture's layers.
    public func layout(of a: OFAArchitecture) -> MobileNetV3Layout {
        var blocks = [InvertedResidualSpec(kernel: 3, input: Self.stemChannels, expanded: Self.stemChannels,
                                           output: Self.stemChannels, stride: 1, squeezeExcitation: false, activation: .relu)]
        var width = Self.stemChannels
        for (s, stage) in a.stages.enumerated() {
            for (p, layer) in stage.enumerated() {
                blocks.append(InvertedResidualSpec(
                    kernel: layer.kernel, input: width, expanded: makeDivisible(Double(width * layer.expand), by: 8),
                    output: Self.stageWidths[s], stride: p == 0 ? Self.stageStrides[s] : 1,
                    squeezeExcitation: Self.stageSqueezeExcitation[s], activation: Self.stageActivations[s]))
                width = Self.stageWidths[s]
            }
        }
        return MobileNetV3Layout(resolution: a.resolution, stemChannels: Self.stemChannels, blocks: blocks,
                                 finalExpandChannels: Self.finalExpandChannels, featureChannels: Self.featureChannels,
                                 featureBias: false, classes: 1000)
    }

    public func cost(of a: OFAArchitecture) -> ArchitectureCost { layout(of: a).cost }
    public func makeNetwork(_ a: OFAArchitecture, seed: UInt64) -> DeployableNetwork { MobileNetV3Network(layout(of: a), seed: seed) }
    /// About 10¹⁹ architectures: too many to list.
    public func enumeration() -> [OFAArchitecture]? { nil }
    public var shapeDescription: [String] { ["width=\(Self.width)", "classes=1000"] }
    /// None: the width is fixed and each architecture carries its resolution.
    public var networkShape: NetworkShape { NetworkShape() }

    public var tableColumns: [String] { ["ks", "e", "d", "r"] }
    public func tableValues(of a: OFAArchitecture) -> [String] {
        let c = a.columns
        return [c.ks, c.e, c.d, c.r]
    }

    /// Rows from the shared table's `ks, e, d, r` columns when the table has them, otherwise
    /// from `arch_string`.
    public func architectures(in table: CSVTable) throws -> [OFAArchitecture] {
        guard tableColumns.allSatisfy(table.header.contains) else { return try architectures(inStringColumnOf: table) }
        let columns = try tableColumns.map(table.column)
        return try (0..<table.rows.count).map { row in
            do {
                return try OFAArchitecture(kernels: columns[0][row], expands: columns[1][row], depths: columns[2][row],
                                           resolution: columns[3][row])
            } catch { throw DataFileError.badRow(path: table.path, line: row + 2, reason: "\(error)") }
        }
    }
}
