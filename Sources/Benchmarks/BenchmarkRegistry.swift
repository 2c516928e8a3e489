import GPTSpace
import NB201Space
import OFASpace
import Evaluation
import Search
import SearchSpaces

extension SpaceName {
    /// The space's shipped benchmark, what a search's objectives come from and its fronts are
    /// scored on; `dataset` chooses NB201's accuracy column (default cifar10).
    public func shippedBenchmark(dataset: String? = nil) throws -> any SearchBenchmark {
        switch self {
        case .nb201: return try NB201Benchmark.shipped(index: try NB201Index.shipped(), dataset: dataset ?? "cifar10")
        case .ofa: return try OFABenchmark.shipped()
        case .gpt: return try GPTBenchmark.shipped()
        }
    }
}
