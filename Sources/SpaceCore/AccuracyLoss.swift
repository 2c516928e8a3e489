/// The loss a space's accuracy objective minimises, as its benchmark scores it.
public enum AccuracyLoss: String, CaseIterable, Codable, Sendable {
    /// Test error (%): NB201's tables, OFA's accuracy predictor.
    case testError = "test_error_percent"
    /// Perplexity (exp of the mean token cross-entropy): HW-GPT-Bench's GPT-2 space.
    case perplexity

    /// The loss in words ("test error").
    public var name: String { self == .testError ? "test error" : "perplexity" }
    /// The axis label, with the unit ("test error (%)").
    public var label: String { self == .testError ? "test error (%)" : "perplexity" }
    /// The axis label with where the values come from ("test error (%, benchmark)").
    public func label(source: String) -> String { self == .testError ? "test error (%, \(source))" : "perplexity (\(source))" }
    /// The values a loss can take: an error is a percentage, a perplexity at least 1.
    public var plausibleRange: ClosedRange<Double> { self == .testError ? 0...100 : 1...1e9 }
}
