import Autodiff
import Foundation
import Proxies
@testable import Benchmarks
@testable import Evaluation
@testable import Search
import SearchSpaces
import Testing
import NB201Space

@Suite struct RankCheckTests {
    func convolutions(_ a: NB201Architecture) -> Int { a.operations.filter { $0 == .conv1x1 || $0 == .conv3x3 }.count }

    /// The strata (0–6 convolutions) take turns: 49 architectures are 7 of each, all connected and distinct.
    @Test func architecturesAreStratifiedByConvolutions() {
        let chosen = RankCheck.stratifiedArchitectures(count: 49, seed: 3)
        #expect(chosen.count == 49 && Set(chosen).count == 49 && chosen.allSatisfy(PathEncoding.isConnected))
        let counts = Dictionary(grouping: chosen, by: convolutions).mapValues(\.count)
        #expect(counts == Dictionary(uniqueKeysWithValues: (0...6).map { ($0, 7) }), "\(counts)")
        #expect(RankCheck.stratifiedArchitectures(count: 49, seed: 3) == chosen && RankCheck.stratifiedArchitectures(count: 49, seed: 4) != chosen)
    }

    @Test func estimatorListsParseAndStoreTheBaselines() throws {
        let list = try RankEstimator.list(parsing: "proxy:synflow,vote,params")
        #expect(list == [.proxy(.synflow), .vote([.synflow, .jacobCov, .snip]), .proxy(.params)])
        #expect(RankCheck.columns(list) == ["params", "flops", "proxy:synflow", "proxy:jacob_cov", "proxy:snip"])
        #expect(RankCheck.reported(list).map(\.description) == ["params", "flops", "proxy:synflow", "vote:synflow+jacob_cov+snip"])
        #expect(try RankEstimator.list(parsing: "proxies").count == ZeroCostProxy.allCases.count + 1)
        #expect(throws: SearchError.self) { try RankEstimator.list(parsing: "vote:synflow") }
        #expect(throws: SearchError.self) { try RankEstimator.list(parsing: "synflow") }
    }

    /// A vote of a perfect and a reversed estimator ties everything; the perfect one alone has τ = 1.
    @Test func agreementsOfKnownEstimators() {
        let archs = RankCheck.stratifiedArchitectures(count: 10, seed: 1)
        let rows = archs.enumerated().map { k, a in
            RankCheck.Row(architecture: a, truth: Double(k), values: ["params": Double(k), "flops": Double(-k), "proxy:synflow": Double(k * k),
                                                                          "proxy:snip": Double(-k)], seconds: 0)
        }
        let a = RankCheck.agreements([.proxy(.synflow), .vote([.synflow, .snip])], rows: rows, resamples: 50, seed: 0)
        #expect(a.map(\.estimator) == ["params", "flops", "proxy:synflow", "vote:synflow+snip"])
        #expect(a[0].kendall == 1 && a[1].kendall == -1 && a[2].spearman == 1 && a[2].kendallInterval == 1...1)
        #expect(a[3].kendall == 0 && a[3].spearman == 0)
    }

    /// supernet+proxy averages the supernet's rank with the default vote's, as the hybrid search fits them.
    @Test func theHybridAveragesTheSupernetsRankWithTheVotes() throws {
        let list = try RankEstimator.list(parsing: "supernet+proxy")
        #expect(list == [.supernetProxy] && list[0].needsSupernet && list[0].needsData)
        #expect(RankCheck.columns(list) == ["params", "flops", "proxy:synflow", "proxy:jacob_cov", "proxy:snip", "supernet"])
        let archs = RankCheck.stratifiedArchitectures(count: 6, seed: 1)
        func rows(supernet: (Double) -> Double) -> [RankCheck.Row] {
            archs.enumerated().map { k, a in
                let x = Double(k)
                return RankCheck.Row(architecture: a, truth: x, values: ["params": x, "flops": x, "proxy:synflow": x, "proxy:jacob_cov": x,
                                                                         "proxy:snip": x, "supernet": supernet(x)], seconds: 0)
            }
        }
        // Both agree with the truth: τ 1; the supernet reversed against a perfect vote: every architecture ties.
        #expect(RankCheck.estimates(.supernetProxy, rows: rows { $0 * $0 }) == [1, 2, 3, 4, 5, 6])
        #expect(RankCheck.estimates(.supernetProxy, rows: rows { -$0 }) == [Double](repeating: 3.5, count: 6))
        let a = RankCheck.agreements(list, rows: rows { $0 }, resamples: 20, seed: 0)
        #expect(a.map(\.estimator) == ["params", "flops", "supernet+proxy"] && a[2].kendall == 1)
    }

    @Test func pseudoErrorsFollowTheVote() {
        // Mean rank 1 is the lowest scores (the worst architecture), rank n the best.
        let e = ProxySurrogate.pseudoErrors(meanRanks: [1, 3, 2, 4])
        let expected: [Double] = [89, 89 - 79 * 2.0 / 3, 89 - 79 / 3.0, 10]
        #expect(zip(e, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(e)")
        #expect(ProxySurrogate.pseudoErrors(meanRanks: [1, 2]) == [89, 10])
    }
}

@Suite struct FairSamplingAndCollapseTests {
    /// Each step's four architectures use every operation but `none` exactly once on every edge.
    @Test func fairSamplesCoverEveryOperationOfEveryEdgeOnce() {
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<20 {
            let archs = FairSampling.architectures(using: &rng)
            #expect(archs.count == 4 && archs.allSatisfy(PathEncoding.isConnected))
            for e in 0..<NB201Architecture.edgeCount {
                #expect(Set(archs.map { $0.operations[e] }) == Set<NB201Operation>([.skipConnect, .conv1x1, .conv3x3, .averagePool3x3]))
            }
        }
        #expect(FairSampling.split(Array(0..<10), into: 4) == [[0, 1], [2, 3], [4, 5], [6, 7]])
        #expect(FairSampling.split([5, 6], into: 4) == [[5], [6], [5], [6]])
    }

    @Test func collapseAlarmFiresOnParameterFreeOrIdenticalFronts() throws {
        func row(_ device: String, _ a: String) -> FrontRow {
            FrontRow(device: device, preferenceIndex: 0, preference: [0.5, 0.5], archIndex: nil, architecture: a, tableValues: [],
                     predictedLatencyMs: 1, estimatedLoss: nil)
        }
        let skip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
        let collapsed = CollapseCheck(rows: [row("a", skip), row("b", skip)], trainingDevices: ["a", "b"])
        #expect(collapsed.identicalFronts && collapsed.parameterFreeShare == 1 && collapsed.fewestWithConvolutions == 0)
        #expect(collapsed.alarm?.hasPrefix("collapse alarm:") == true && collapsed.alarm!.contains("the same front"))
        let convs = (0..<4).map { k in NB201Architecture(operations: (0..<6).map { $0 == k ? .conv3x3 : .skipConnect }) }
        #expect(convs.allSatisfy(PathEncoding.isConnected))
        let rows = convs.map { row("a", $0.string) } + convs.dropFirst().map { row("b", $0.string) } + [row("b", skip)] + [row("b", convs[0].string)]
        let sound = CollapseCheck(rows: rows, trainingDevices: ["a", "b"])
        #expect(sound.alarm == nil && !sound.identicalFronts && abs(sound.parameterFreeShare - 1.0 / 9) < 1e-12, "\(sound)")

        // At the boundary: a device whose front holds 3 connected architectures with convolutions
        // (plus a disconnected one and a parameter-free one) raises the alarm; with the fourth, not.
        let disconnected = NB201Architecture(operations: [.conv3x3, .none, .none, .none, .none, .none])
        #expect(!PathEncoding.isConnected(disconnected))
        let three = convs.prefix(3).map { row("a", $0.string) } + [row("a", disconnected.string), row("a", skip)] + convs.map { row("b", $0.string) }
        let short = CollapseCheck(rows: three, trainingDevices: ["a", "b"])
        #expect(short.fewestWithConvolutions == 3 && short.alarm?.contains("only 3 distinct connected architectures") == true, "\(short)")
        #expect(CollapseCheck(rows: three + [row("a", convs[3].string)], trainingDevices: ["a", "b"]).alarm == nil)
    }
}
