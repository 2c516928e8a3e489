import Foundation

/// Finds the data folders that ship with modnas (`Devices/`, `Profiles/`, `Predictors/`).
public enum ShippedData {
    /// Candidate checkout roots: `MODNAS_HOME`, the working directory and its parents, the
    /// executable's folder and its parents, and the source checkout this was built from.
    static func candidateRoots() -> [URL] {
        var roots: [URL] = []
        if let home = ProcessInfo.processInfo.environment["MODNAS_HOME"] { roots.append(URL(fileURLWithPath: home)) }
        func withParents(_ url: URL) -> [URL] {
            var out: [URL] = [], u = url.standardizedFileURL
            while u.path != "/" { out.append(u); u = u.deletingLastPathComponent() }
            return out
        }
        roots += withParents(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        roots += withParents(URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent())
        // #filePath is Sources/DataFiles/ShippedData.swift inside the checkout.
        roots.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        return roots
    }

    /// The path of `relativePath` (e.g. "Devices/nb201/reference_archs.csv") in the first root holding it.
    /// `path` as given when it exists (or is absolute), else the shipped file or folder of that
    /// name, so the defaults `Profiles` and `Predictors` work from any directory.
    public static func existingOrShipped(_ path: String) -> String {
        FileManager.default.fileExists(atPath: path) || path.hasPrefix("/") ? path : (try? Self.path(path)) ?? path
    }

    public static func path(_ relativePath: String) throws -> String {
        let roots = candidateRoots()
        for root in roots {
            let p = root.appendingPathComponent(relativePath).path
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        throw DataFileError.shippedDataNotFound(relativePath: relativePath, searched: Array(Set(roots.prefix(3).map(\.path))).sorted())
    }
}
