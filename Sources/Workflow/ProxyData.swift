import Autodiff
import Datasets
import Proxies
import Benchmarks
import Evaluation
import Search

/// The images zero-cost proxies and stand-alone training see.
enum ProxyData {
    /// The data set's weight and validation halves, a seeded subset of `images` training images;
    /// refused in one line when its images are not square (NB201 networks need square inputs).
    static func splits(dataset: String, images: Int, seed: UInt64) throws -> DatasetSplits {
        let (train, test) = try DatasetSource(parsing: dataset).load()
        guard train.height == train.width else {
            throw SearchError.badConfiguration("--dataset \(dataset) has \(train.height)×\(train.width) images; NB201 networks take square images")
        }
        return DatasetSplits(training: train, test: test, limit: min(images, train.count), testLimit: 0, seed: seed)
    }

    /// The first `count` weight images (a fixed seeded subset).
    static func batch(_ splits: DatasetSplits, count: Int) throws -> ProxyBatch {
        var unused = SeededGenerator(seed: 0)   // no augmentation: the generator is not drawn from
        let (images, labels) = splits.weights.batch(Array(0..<min(count, splits.weights.count)), using: &unused)
        return try ProxyBatch(images: images, labels: labels, classes: splits.weights.classes, source: splits.weights.name)
    }
}
