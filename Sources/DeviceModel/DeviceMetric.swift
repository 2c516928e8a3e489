/// A per-device quantity that profiles store, predictors learn and searches minimise: each with
/// one unit everywhere (milliseconds per inference, joules per inference).
public enum DeviceMetric: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case latency
    case energy

    /// The unit of every stored, predicted and plotted value.
    public var unit: String { self == .latency ? "ms" : "J" }

    /// The name of columns and files: `latency_ms`, `energy_j`.
    public var fileName: String { "\(rawValue)_\(unit.lowercased())" }

    /// Plausible values per inference: outside, a value is a unit mix-up or damage
    /// (1 µs to 10⁶ s; 1 nJ to 10 MJ).
    public var plausibleRange: ClosedRange<Double> { self == .latency ? 1e-3...1e9 : 1e-9...1e7 }

    /// The axis label of plots: "latency (ms)", "energy (J)".
    public var label: String { "\(rawValue) (\(unit))" }

    /// Parses `--metric`, in one line when unknown.
    public init(parsing text: String) throws {
        guard let metric = DeviceMetric(rawValue: text) else {
            throw DeviceModelError.unknownMetric(text)
        }
        self = metric
    }

    public var description: String { rawValue }
}
