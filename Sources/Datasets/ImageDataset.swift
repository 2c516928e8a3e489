import Autodiff

/// Labelled images in memory, NCHW, pixel values scaled to [0, 1] (or normalised).
public struct ImageDataset: Sendable {
    /// The smallest image side the networks take: they halve the input twice.
    public static let minimumSide = 4

    public var name: String
    public var channels: Int, height: Int, width: Int
    public var classes: Int
    /// count × channels × height × width values.
    public var pixels: [Float]
    public var labels: [Int]

    public init(name: String, channels: Int, height: Int, width: Int, classes: Int, pixels: [Float], labels: [Int]) {
        precondition(pixels.count == labels.count * channels * height * width, "pixels do not match \(labels.count) images of \(channels)×\(height)×\(width)")
        (self.name, self.channels, self.height, self.width, self.classes, self.pixels, self.labels) = (name, channels, height, width, classes, pixels, labels)
    }

    public var count: Int { labels.count }
    var imageSize: Int { channels * height * width }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> ImageDataset {
        var out = [Float]()
        out.reserveCapacity(indices.count * imageSize)
        for i in indices { out.append(contentsOf: pixels[(i * imageSize)..<((i + 1) * imageSize)]) }
        return ImageDataset(name: name ?? self.name, channels: channels, height: height, width: width, classes: classes,
                            pixels: out, labels: indices.map { labels[$0] })
    }

    /// A batch [n, C, H, W] and its labels; with `augmentation`, each image is randomly cropped
    /// (zero padding) and flipped first.
    public func batch(_ indices: [Int], augmentation: Augmentation? = nil, using rng: inout SeededGenerator) -> (images: Tensor, labels: [Int]) {
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        for (k, i) in indices.enumerated() {
            let image = Array(pixels[(i * imageSize)..<((i + 1) * imageSize)])
            let placed = augmentation.map { $0.apply(image, channels: channels, height: height, width: width, using: &rng) } ?? image
            out.replaceSubrange((k * imageSize)..<((k + 1) * imageSize), with: placed)
        }
        return (Tensor(shape: [indices.count, channels, height, width], scalars: out), indices.map { labels[$0] })
    }
}

/// Per-channel normalisation constants, computed on training images and applied to any split.
public struct ChannelNormalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var standardDeviation: [Float]

    public init(fitting data: ImageDataset) {
        let plane = data.height * data.width
        var mean = [Double](repeating: 0, count: data.channels), square = mean
        for n in 0..<data.count {
            for c in 0..<data.channels {
                let start = (n * data.channels + c) * plane
                for v in data.pixels[start..<(start + plane)] { mean[c] += Double(v); square[c] += Double(v) * Double(v) }
            }
        }
        let total = Double(data.count * plane)
        self.mean = mean.map { Float($0 / total) }
        standardDeviation = zip(mean, square).map { m, s in Float(max((s / total - (m / total) * (m / total)).squareRoot(), 1e-6)) }
    }

    /// (x − mean) / std per channel.
    public func apply(to data: ImageDataset) -> ImageDataset {
        var out = data
        let plane = data.height * data.width
        for n in 0..<data.count {
            for c in 0..<data.channels {
                let start = (n * data.channels + c) * plane
                for i in start..<(start + plane) { out.pixels[i] = (out.pixels[i] - mean[c]) / standardDeviation[c] }
            }
        }
        return out
    }
}

/// Random crop with zero padding and horizontal flip (the CIFAR recipe for 32×32 colour images).
public struct Augmentation: Sendable {
    public var padding = 4
    public var flip = true
    public init(padding: Int = 4, flip: Bool = true) { (self.padding, self.flip) = (padding, flip) }

    func apply(_ image: [Float], channels: Int, height: Int, width: Int, using rng: inout SeededGenerator) -> [Float] {
        let dy = Int(rng.next() % UInt64(2 * padding + 1)) - padding, dx = Int(rng.next() % UInt64(2 * padding + 1)) - padding
        let mirror = flip && rng.next() % 2 == 1
        return Self.shifted(image, channels: channels, height: height, width: width, dy: dy, dx: dx, mirror: mirror)
    }

    /// The image moved by (dy, dx) with zeros coming in, then mirrored left–right when `mirror`.
    static func shifted(_ image: [Float], channels: Int, height: Int, width: Int, dy: Int, dx: Int, mirror: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: image.count)
        for c in 0..<channels {
            for y in 0..<height {
                let sy = y + dy
                guard sy >= 0 && sy < height else { continue }
                for x in 0..<width {
                    let sx = (mirror ? width - 1 - x : x) + dx
                    guard sx >= 0 && sx < width else { continue }
                    out[(c * height + y) * width + x] = image[(c * height + sy) * width + sx]
                }
            }
        }
        return out
    }
}

/// Weight, architecture and test parts of a data set, as the supernet search uses them.
public struct DatasetSplits: Sendable {
    /// Trains the supernet's weights.
    public var weights: ImageDataset
    /// Scores sampled architectures for the hypernetwork's steps.
    public var architecture: ImageDataset
    public var test: ImageDataset

    /// Splits `training` in half at random (seeded) into weight and architecture parts, optionally
    /// keeping only `limit` training and `testLimit` test images (seeded subsets), and normalises
    /// all parts with the weight part's channel statistics.
    public init(training: ImageDataset, test: ImageDataset, limit: Int? = nil, testLimit: Int? = nil, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<training.count)
        rng.shuffle(&order)
        if let limit { order = Array(order.prefix(limit)) }
        let half = order.count / 2
        var testOrder = Array(0..<test.count)
        rng.shuffle(&testOrder)
        if let testLimit { testOrder = Array(testOrder.prefix(testLimit)) }
        let weights = training.subset(Array(order[..<half]), name: training.name + " (weights)")
        let normalization = ChannelNormalization(fitting: weights)
        self.weights = normalization.apply(to: weights)
        architecture = normalization.apply(to: training.subset(Array(order[half...]), name: training.name + " (architecture)"))
        self.test = normalization.apply(to: test.subset(testOrder, name: test.name))
    }
}
