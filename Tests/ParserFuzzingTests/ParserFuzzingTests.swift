import Foundation
import ParserFuzzing
import Testing

/// Inputs the fuzzer (scripts/fuzz-parsers) found crashing, kept after the fix: each must now
/// end in a clean error. A crash here takes the whole test process down, so it cannot pass.
@Suite struct ParserFuzzingTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    @Test func everyKeptCrashInputIsHandled() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(!files.isEmpty)
        for name in files { ParserFuzzing.run(try Data(contentsOf: Self.corpus.appendingPathComponent(name))) }
    }

    /// Every target on every prefix of a valid input, cut at 64 points: truncated files of each kind.
    @Test func truncatedInputsOfEveryKindAreHandled() throws {
        let root = Self.corpus.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let samples: [ParserFuzzing.Target: Data] = [
            .architecture: Data("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|".utf8),
            .csv: try Data(contentsOf: root.appendingPathComponent("Devices/nb201/device_features_ms.csv")),
            .architectureList: try Data(contentsOf: root.appendingPathComponent("Devices/nb201/reference_archs.csv")),
            .deviceFeatures: try Data(contentsOf: root.appendingPathComponent("Profiles/raspi4.json")),
            .cifar: Data([3] + [UInt8](repeating: 128, count: 3072)),
            // 48 bytes of images (2 of 4 × 4), then 10 bytes of labels.
            .idx: Data([3, 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4] + [UInt8](repeating: 9, count: 32) + [0, 0, 8, 1, 0, 0, 0, 2, 1, 2]),
        ]
        for (target, sample) in samples {
            for cut in stride(from: 0, through: sample.count, by: max(1, sample.count / 64)) {
                ParserFuzzing.run(ParserFuzzing.input(target, sample.prefix(cut)))
            }
        }
    }
}
