/// Whether numbers were measured on a host or copied from a benchmark table.
public enum DataSource: String, Codable, Sendable, CaseIterable {
    case measured, benchmark
}
