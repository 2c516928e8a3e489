import Autodiff
import DataFiles
import Foundation

/// A data set file that cannot be used, with what to do about it.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case badMagic(path: String, found: UInt32, expected: UInt32)
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case badLabel(path: String, index: Int, label: Int, classes: Int)
    case missingFiles(directory: String, expected: [String])
    case unknownSource(String)
    case badShape(path: String, sizes: [Int], reason: String)

    public var description: String {
        switch self {
        case .badMagic(let path, let found, let expected):
            return String(format: "%@ starts with magic 0x%08X, not 0x%08X: not the IDX file expected (images 0x00000803, labels 0x00000801)", path, found, expected)
        case .truncated(let path, let expected, let found):
            return "\(path) is truncated: \(found) bytes, its header promises \(expected); download it again"
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels; use files of the same set"
        case .badLabel(let path, let index, let label, let classes):
            return "\(path): label \(label) of record \(index) is outside 0…\(classes - 1); the file is damaged"
        case .missingFiles(let directory, let expected):
            return "\(directory) lacks \(expected.joined(separator: ", ")); point --dataset at the folder that holds them"
        case .badShape(let path, let sizes, let reason):
            return "\(path) declares \(sizes.map(String.init).joined(separator: " × ")): \(reason); use a real IDX image file"
        case .unknownSource(let text):
            return "unknown data set '\(text)'; use fashion-mnist, idx:DIR, cifar10:DIR or synthetic"
        }
    }
}

/// IDX files (MNIST, Fashion-MNIST), gzip-compressed or not.
public enum IDXReader {
    static let imageMagic: UInt32 = 0x0000_0803, labelMagic: UInt32 = 0x0000_0801

    static func bigEndian(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    static func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws -> [Int] {
        guard bytes.count >= 4 else { throw DatasetError.truncated(path: path, expectedBytes: 4, foundBytes: bytes.count) }
        let found = UInt32(bigEndian(bytes, at: 0))
        guard found == magic else { throw DatasetError.badMagic(path: path, found: found, expected: magic) }
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= headerSize else { throw DatasetError.truncated(path: path, expectedBytes: headerSize, foundBytes: bytes.count) }
        let sizes = (0..<dimensions).map { bigEndian(bytes, at: 4 + 4 * $0) }
        // The sizes are 32-bit and untrusted: their product can overflow before any byte is read.
        var payload = 1
        for size in sizes {
            let (product, overflow) = payload.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DatasetError.badShape(path: path, sizes: sizes, reason: "more bytes than any file holds") }
            payload = product
        }
        let expected = headerSize + payload
        guard bytes.count >= expected else { throw DatasetError.truncated(path: path, expectedBytes: expected, foundBytes: bytes.count) }
        return sizes
    }

    /// Images and labels from an IDX pair (pixels scaled to [0, 1], one channel).
    public static func load(images: String, labels: String, name: String, classes: Int = 10) throws -> ImageDataset {
        try parse(imageBytes: try GzipFile.read(images), labelBytes: try GzipFile.read(labels), images: images, labels: labels, name: name, classes: classes)
    }

    /// Images and labels from the bytes of an IDX pair; `images` and `labels` name them in errors.
    public static func parse(imageBytes: [UInt8], labelBytes: [UInt8], images: String, labels: String, name: String,
                             classes: Int = 10) throws -> ImageDataset {
        let sizes = try header(imageBytes, path: images, magic: imageMagic, dimensions: 3)
        guard sizes[0] >= 1 else { throw DatasetError.badShape(path: images, sizes: sizes, reason: "no images") }
        guard sizes[1] >= ImageDataset.minimumSide, sizes[2] >= ImageDataset.minimumSide else {
            throw DatasetError.badShape(path: images, sizes: sizes, reason: "images must be at least \(ImageDataset.minimumSide) × \(ImageDataset.minimumSide) pixels (the networks halve them twice)")
        }
        let labelCount = try header(labelBytes, path: labels, magic: labelMagic, dimensions: 1)[0]
        guard sizes[0] == labelCount else {
            throw DatasetError.countMismatch(images: images, imageCount: sizes[0], labels: labels, labelCount: labelCount)
        }
        let label = try (0..<labelCount).map { i -> Int in
            let v = Int(labelBytes[8 + i])
            guard v < classes else { throw DatasetError.badLabel(path: labels, index: i, label: v, classes: classes) }
            return v
        }
        let pixels = imageBytes[16..<(16 + sizes.reduce(1, *))].map { Float($0) / 255 }
        return ImageDataset(name: name, channels: 1, height: sizes[1], width: sizes[2], classes: classes, pixels: pixels, labels: label)
    }
}

/// CIFAR-10 binary batches: records of 1 label byte and 3 × 32 × 32 pixel bytes.
public enum CIFAR10Reader {
    static let recordSize = 1 + 3 * 32 * 32

    public static func load(batches paths: [String], name: String) throws -> ImageDataset {
        var pixels: [Float] = [], labels: [Int] = []
        for path in paths {
            let batch = try parse(batch: try GzipFile.read(path), path: path)
            pixels += batch.pixels
            labels += batch.labels
        }
        return ImageDataset(name: name, channels: 3, height: 32, width: 32, classes: 10, pixels: pixels, labels: labels)
    }

    /// The pixels and labels of one batch's bytes; `path` names it in errors.
    public static func parse(batch bytes: [UInt8], path: String) throws -> (pixels: [Float], labels: [Int]) {
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw DatasetError.truncated(path: path, expectedBytes: (bytes.count / recordSize + 1) * recordSize, foundBytes: bytes.count)
        }
        var pixels: [Float] = [], labels: [Int] = []
        for r in 0..<(bytes.count / recordSize) {
            let start = r * recordSize
            let label = Int(bytes[start])
            guard label < 10 else { throw DatasetError.badLabel(path: path, index: r, label: label, classes: 10) }
            labels.append(label)
            pixels += bytes[(start + 1)..<(start + recordSize)].map { Float($0) / 255 }
        }
        return (pixels, labels)
    }
}

/// A seeded synthetic set for tests: each class is a fixed random pattern (drawn from
/// `patternSeed`, so sets with different `seed`s share their classes) plus noise.
public enum SyntheticDataset {
    public static func make(count: Int, classes: Int = 4, channels: Int = 1, size: Int = 8, noise: Float = 0.3,
                            patternSeed: UInt64 = 0, seed: UInt64) -> ImageDataset {
        var patternRNG = SeededGenerator(seed: patternSeed)
        let plane = channels * size * size
        let patterns = (0..<classes).map { _ in (0..<plane).map { _ in patternRNG.nextUniform() } }
        var rng = SeededGenerator(seed: seed)
        var pixels = [Float](), labels = [Int]()
        for _ in 0..<count {
            let label = Int(rng.next() % UInt64(classes))
            labels.append(label)
            pixels += patterns[label].map { min(max($0 + noise * rng.nextNormal(), 0), 1) }
        }
        return ImageDataset(name: "synthetic", channels: channels, height: size, width: size, classes: classes, pixels: pixels, labels: labels)
    }
}

/// Where training and test images come from: `fashion-mnist` (the Debian package),
/// `idx:DIR` (train-/t10k- IDX files), `cifar10:DIR` (binary batches) or `synthetic`.
public enum DatasetSource: Equatable, Sendable {
    case fashionMNIST
    case idx(directory: String)
    case cifar10(directory: String)
    case synthetic

    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("fashion-mnist", 1): self = .fashionMNIST
        case ("synthetic", 1): self = .synthetic
        case ("idx", 2): self = .idx(directory: parts[1])
        case ("cifar10", 2): self = .cifar10(directory: parts[1])
        default: throw DatasetError.unknownSource(text)
        }
    }

    /// The training and test sets.
    public func load() throws -> (training: ImageDataset, test: ImageDataset) {
        switch self {
        case .fashionMNIST: return try Self.loadIDX(Self.fashionMNISTDirectory, name: "Fashion-MNIST")
        case .idx(let directory): return try Self.loadIDX(directory, name: (directory as NSString).lastPathComponent)
        case .cifar10(let directory):
            let train = (1...5).map { "data_batch_\($0).bin" }, test = ["test_batch.bin"]
            let missing = (train + test).filter { !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0)) }
            guard missing.isEmpty else { throw DatasetError.missingFiles(directory: directory, expected: missing) }
            func paths(_ names: [String]) -> [String] { names.map { (directory as NSString).appendingPathComponent($0) } }
            return (try CIFAR10Reader.load(batches: paths(train), name: "CIFAR-10"), try CIFAR10Reader.load(batches: paths(test), name: "CIFAR-10 test"))
        case .synthetic:
            return (SyntheticDataset.make(count: 512, seed: 1), SyntheticDataset.make(count: 128, seed: 2))
        }
    }

    /// `train-` and `t10k-` IDX pairs in `directory`, gzip-compressed or not.
    static func loadIDX(_ directory: String, name: String) throws -> (training: ImageDataset, test: ImageDataset) {
        func find(_ stem: String) throws -> String {
            for candidate in [stem + ".gz", stem] {
                let path = (directory as NSString).appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            throw DatasetError.missingFiles(directory: directory, expected: [stem + "[.gz]"])
        }
        return (try IDXReader.load(images: find("train-images-idx3-ubyte"), labels: find("train-labels-idx1-ubyte"), name: name),
                try IDXReader.load(images: find("t10k-images-idx3-ubyte"), labels: find("t10k-labels-idx1-ubyte"), name: name + " test"))
    }
}
