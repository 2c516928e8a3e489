import DataFiles
import Foundation
import SearchSpaces

/// Device names are names, never paths: 1 to 64 characters from ASCII letters, digits, `_`, `-`
/// and `.`, starting with a letter or digit. A name is a file name (`Profiles/<device>.json`) and a
/// CSV field, so it holds no `/`, no `..`, no comma, quote or newline; and it does not end in
/// `.<space>` (`x.ofa.json` is device x's OFA file, not device x.ofa's NB201 file).
public enum DeviceName {
    public static let rule = "1–64 ASCII letters, digits, '_', '-' or '.', starting with a letter or digit, not ending in "
        + SpaceName.allCases.filter { $0 != .nb201 }.map { "'.\($0)'" }.joined(separator: " or ")

    /// `name` when it follows `rule`; otherwise an error that says why and what a name looks like.
    @discardableResult
    public static func check(_ name: String) throws -> String {
        let scalars = Array(name.unicodeScalars)
        func allowed(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (CharacterSet.alphanumerics.contains(c) || c == "_" || c == "-" || c == ".")
        }
        guard let first = scalars.first, scalars.count <= 64, first.isASCII, CharacterSet.alphanumerics.contains(first),
              scalars.allSatisfy(allowed), SpaceName(fileName: SpaceName.nb201.fileName(stem: name)) == .nb201 else {
            throw DeviceModelError.badDeviceName(name: name)
        }
        return name
    }

    /// The benchmark devices shipped in `Profiles/` (of every space): a measured host may not
    /// take their names without `--force`, or its features would replace the benchmark's.
    public static func shippedBenchmarkDevices() -> Set<String> {
        guard let directory = try? ShippedData.path("Profiles") else { return [] }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(files.filter { $0.hasSuffix(".json") }.compactMap { file in
            (try? DeviceFeatures.load((directory as NSString).appendingPathComponent(file))).flatMap { $0.source == .benchmark ? $0.device : nil }
        })
    }

    /// Refuses, before anything is measured, a measured device whose name is not a name or would
    /// shadow a benchmark device: one shipped, or one whose feature file is in `profilesDirectory`.
    public static func checkMeasured(_ name: String, space: SpaceName, profilesDirectory: String, force: Bool) throws {
        try check(name)
        guard !force else { return }
        let path = (profilesDirectory as NSString).appendingPathComponent(DeviceFeatures.fileName(device: name, space: space))
        let existing = FileManager.default.fileExists(atPath: path) ? try DeviceFeatures.load(path) : nil
        if existing?.source == .benchmark || (existing == nil && shippedBenchmarkDevices().contains(name)) {
            throw DeviceModelError.shadowsBenchmark(name: name)
        }
    }
}
