import Autodiff
@testable import Datasets
import Foundation
import Testing
import TestSupport

func scratchDirectory() throws -> String { try Scratch.directory("modnas-data") }

/// An IDX file: magic, big-endian sizes, then bytes.
func idx(magic: UInt32, sizes: [Int], body: [UInt8]) -> Data {
    var d = Data()
    for v in [Int(magic)] + sizes { d.append(contentsOf: [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) }) }
    d.append(contentsOf: body)
    return d
}

@Suite struct IDXTests {
    @Test func readsTheDebianFashionMNIST() throws {
        let (train, test) = try DatasetSource.fashionMNIST.load()
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.channels == 1 && train.height == 28 && train.width == 28 && train.classes == 10)
        // Fashion-MNIST is balanced: 6,000 training images per class.
        let counts = Dictionary(grouping: train.labels, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 10 && counts.values.allSatisfy { $0 == 6000 })
        #expect(train.pixels.allSatisfy { $0 >= 0 && $0 <= 1 } && train.pixels.contains { $0 == 1 })
    }

    @Test func plainAndBadFiles() throws {
        let dir = try scratchDirectory()
        let images = idx(magic: 0x803, sizes: [2, 4, 5], body: [0, 255] + [UInt8](repeating: 7, count: 38))
        try images.write(to: URL(fileURLWithPath: "\(dir)/i"))
        try idx(magic: 0x801, sizes: [2], body: [7, 1]).write(to: URL(fileURLWithPath: "\(dir)/l"))
        let d = try IDXReader.load(images: "\(dir)/i", labels: "\(dir)/l", name: "tiny")
        #expect(d.count == 2 && d.height == 4 && d.width == 5 && d.labels == [7, 1] && d.pixels[1] == 1)
        func expectError(_ body: () throws -> Void, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(sourceLocation: sourceLocation) { try body() } throws: { "\($0)".contains(fragment) && !"\($0)".contains("\n") }
        }
        try images.prefix(images.count - 1).write(to: URL(fileURLWithPath: "\(dir)/cut"))
        expectError({ _ = try IDXReader.load(images: "\(dir)/cut", labels: "\(dir)/l", name: "x") }, "truncated")
        expectError({ _ = try IDXReader.load(images: "\(dir)/l", labels: "\(dir)/l", name: "x") }, "magic 0x00000801")
        try idx(magic: 0x801, sizes: [3], body: [1, 2, 3]).write(to: URL(fileURLWithPath: "\(dir)/l3"))
        expectError({ _ = try IDXReader.load(images: "\(dir)/i", labels: "\(dir)/l3", name: "x") }, "2 images but")
        try idx(magic: 0x801, sizes: [2], body: [1, 12]).write(to: URL(fileURLWithPath: "\(dir)/lbad"))
        expectError({ _ = try IDXReader.load(images: "\(dir)/i", labels: "\(dir)/lbad", name: "x") }, "label 12")
        expectError({ _ = try DatasetSource.idx(directory: dir).load() }, "train-images-idx3-ubyte")
        expectError({ _ = try DatasetSource(parsing: "mnist") }, "unknown data set")
        // A gzip file cut short (a partial download of the real labels).
        let gz = try Data(contentsOf: URL(fileURLWithPath: DatasetSource.fashionMNISTDirectory + "/train-labels-idx1-ubyte.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: "\(dir)/cut-labels.gz"))
        expectError({ _ = try IDXReader.load(images: "\(dir)/i", labels: "\(dir)/cut-labels.gz", name: "x") }, "damaged")
        // Headers that parse but cannot be images: sizes whose product overflows, images too
        // small for the networks, no pixels at all.
        for (name, sizes) in [("huge", [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]), ("one", [2, 1, 1]), ("flat", [2, 28, 0]), ("empty", [0, 28, 28])] {
            try idx(magic: 0x803, sizes: sizes, body: [1, 2]).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            expectError({ _ = try IDXReader.load(images: "\(dir)/\(name)", labels: "\(dir)/l", name: "x") }, "\(dir)/\(name) declares")
        }
    }
}

@Suite struct CIFARTests {
    @Test func readsBatchesAndRejectsTruncatedOnes() throws {
        let dir = try scratchDirectory()
        var record = [UInt8](repeating: 0, count: 3073)
        record[0] = 3
        record[1] = 255            // red, top-left
        record[1 + 1024 + 5] = 51  // green, sixth pixel
        var two = record
        two[0] = 9
        try Data(record + two).write(to: URL(fileURLWithPath: "\(dir)/b.bin"))
        let d = try CIFAR10Reader.load(batches: ["\(dir)/b.bin"], name: "c")
        #expect(d.count == 2 && d.labels == [3, 9] && d.channels == 3 && d.pixels[0] == 1 && abs(d.pixels[1024 + 5] - 0.2) < 1e-6)
        try Data(record + two.prefix(100)).write(to: URL(fileURLWithPath: "\(dir)/cut.bin"))
        #expect { try CIFAR10Reader.load(batches: ["\(dir)/cut.bin"], name: "c") } throws: { "\($0)".contains("truncated") }
        #expect { try DatasetSource.cifar10(directory: dir).load() } throws: { "\($0)".contains("data_batch_1.bin") }
    }
}

@Suite struct SplitTests {
    @Test func splitsAreDisjointSeededAndNormalised() {
        let data = SyntheticDataset.make(count: 400, channels: 3, size: 6, seed: 5)
        let test = SyntheticDataset.make(count: 100, channels: 3, size: 6, seed: 6)
        let a = DatasetSplits(training: data, test: test, limit: 300, testLimit: 50, seed: 1)
        let b = DatasetSplits(training: data, test: test, limit: 300, testLimit: 50, seed: 1)
        #expect(a.weights.count == 150 && a.architecture.count == 150 && a.test.count == 50)
        #expect(a.weights.pixels == b.weights.pixels && a.architecture.labels == b.architecture.labels)
        // The weight part is normalised to mean 0 and standard deviation 1 per channel.
        let n = ChannelNormalization(fitting: a.weights)
        for c in 0..<3 { #expect(abs(n.mean[c]) < 1e-4 && abs(n.standardDeviation[c] - 1) < 1e-3) }
        let c = DatasetSplits(training: data, test: test, limit: 300, seed: 2)
        #expect(c.weights.pixels != a.weights.pixels)
    }

    @Test func cropAndFlipMoveThePixels() {
        // A 1×2×3 image 1 2 3 / 4 5 6.
        let image: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(Augmentation.shifted(image, channels: 1, height: 2, width: 3, dy: 0, dx: 0, mirror: true) == [3, 2, 1, 6, 5, 4])
        #expect(Augmentation.shifted(image, channels: 1, height: 2, width: 3, dy: 1, dx: 0, mirror: false) == [4, 5, 6, 0, 0, 0])
        #expect(Augmentation.shifted(image, channels: 1, height: 2, width: 3, dy: 0, dx: -1, mirror: false) == [0, 1, 2, 0, 4, 5])
        let data = SyntheticDataset.make(count: 8, channels: 3, size: 8, seed: 3)
        var rng = SeededGenerator(seed: 4)
        let (plain, labels) = data.batch([2, 5], using: &rng)
        let (augmented, _) = data.batch([2, 5], augmentation: Augmentation(), using: &rng)
        #expect(plain.shape == [2, 3, 8, 8] && labels == [data.labels[2], data.labels[5]] && augmented.shape == plain.shape)
        #expect(augmented.scalars != plain.scalars)
    }
}
