import Autodiff
import SpaceCore
import DataFiles

/// The official NB201 index: the row order of NAS-Bench-201's tables (0…15,624).
public struct NB201Index: Sendable {
    /// Architectures by official index.
    public let architectures: [NB201Architecture]
    private let indexByCode: [Int]

    /// Where the shipped accuracy table lives, relative to the checkout.
    public static let shippedTable = "Devices/nb201/test_accuracy_200ep.csv.gz"

    /// Reads the index from a table with `arch_index` and `arch_string` columns in official order.
    public init(table: CSVTable) throws {
        let indices = try table.column("arch_index"), strings = try table.column("arch_string")
        guard strings.count == NB201Architecture.spaceSize else {
            throw DataFileError.wrongRowCount(path: table.path, expected: NB201Architecture.spaceSize, found: strings.count)
        }
        var archs: [NB201Architecture] = []
        var byCode = [Int](repeating: -1, count: NB201Architecture.spaceSize)
        for (row, (index, string)) in zip(indices, strings).enumerated() {
            guard Int(index) == row else {
                throw DataFileError.badValue(path: table.path, line: row + 2, column: "arch_index", value: index,
                                             expected: "\(row) (rows must be in official order)")
            }
            let arch = try NB201Architecture(parsing: string)
            guard byCode[arch.code] < 0 else {
                throw DataFileError.corrupt(path: table.path, reason: "architecture \(string) appears twice")
            }
            byCode[arch.code] = row
            archs.append(arch)
        }
        architectures = archs
        indexByCode = byCode
    }

    /// The index from the table shipped in `Devices/nb201`.
    public static func shipped() throws -> NB201Index {
        try NB201Index(table: CSVTable(contentsOf: ShippedData.path(shippedTable)))
    }

    /// The official index of `architecture`.
    public func index(of architecture: NB201Architecture) -> Int { indexByCode[architecture.code] }

    /// The architecture with official index `index`.
    public subscript(index: Int) -> NB201Architecture { architectures[index] }
}

/// Seeded uniform sampling of distinct NB201 architectures.
public enum NB201Sampler {
    /// `count` distinct architectures drawn uniformly from the 15,625 (a partial Fisher–Yates shuffle).
    public static func distinct(count: Int, seed: UInt64) -> [NB201Architecture] {
        var rng = SeededGenerator(seed: seed)
        var codes = Array(0..<NB201Architecture.spaceSize)
        let n = min(max(count, 0), codes.count)
        for i in 0..<n {
            let j = i + Int(rng.next() % UInt64(codes.count - i))
            codes.swapAt(i, j)
        }
        return codes[0..<n].map(NB201Architecture.init(code:))
    }
}
