import Foundation

/// Scratch files for tests: all inside one folder per test process, removed when the process
/// exits, so a test run leaves nothing in the temporary directory (a crashed run leaves its folder).
public enum Scratch {
    /// `$TMPDIR/modnas-tests-<pid>`, created on first use.
    public static let root: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("modnas-tests-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)   // left by an earlier process with this pid
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            fatalError("cannot create the tests' scratch folder \(path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return path
    }()

    /// A new path `<prefix>-<UUID><suffix>` inside `root`; nothing is created.
    public static func path(_ prefix: String, suffix: String = "") -> String {
        root + "/\(prefix)-\(UUID().uuidString)\(suffix)"
    }

    /// A new empty folder `<prefix>-<UUID>` inside `root`.
    public static func directory(_ prefix: String) throws -> String {
        let dir = path(prefix)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
