import ArgumentParser
import Autodiff
import Foundation

/// The version of the modnas tools.
public let modnasVersion = "0.1.0"

/// The `--version` text: tool version and the OpenBLAS core in use.
public var versionText: String {
    "modnas \(modnasVersion), OpenBLAS core \(OpenBLASCoreSelection.status.summary)"
}

extension ParsableCommand {
    /// Entry point of every modnas executable: selects the OpenBLAS core (which may re-execute
    /// the tool), runs the command on one OpenBLAS thread unless it asks for more, and reports any
    /// failure as one line on stderr with a non-zero exit (a `MODNAS_KERNELS` that names no kernel
    /// path this CPU executes among them, before any work). Help and version requests print as usual.
    ///
    /// One thread by default because OpenBLAS's multi-threaded sgemm rounds differently from its
    /// single-threaded one on some kernels: a prediction must not change in its last digits with
    /// the machine's core count, nor between `modnas search` (`--threads 1`) and `modnas fronts`.
    public static func runAsTool(_ arguments: [String]? = nil) -> Never {
        OpenBLASCoreSelection.ensureBestCore()
        OpenBLAS.setThreadCount(1)
        AllocatorTuning.reuseLargeBlocks()
        do {
            _ = try CPUKernels.requested()
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = (plainMessage(for: error) ?? Self.message(for: error))
                .split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "failed"
            let name = configuration.commandName ?? "modnas"
            printToStandardError("\(name): error: \(message)")
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// Foundation's file and encoding errors in words that say what to do, instead of their raw
/// `NSCocoaErrorDomain Code=…` or `EncodingError` dumps; nil for the tools' own errors.
func plainMessage(for error: Error) -> String? {
    if let encoding = error as? EncodingError, case .invalidValue(let value, let context) = encoding {
        let place = context.codingPath.map(\.stringValue).joined(separator: ".")
        return "cannot write \(value) at '\(place)' as JSON (not a finite number): the run diverged; try a smaller learning rate or report it"
    }
    guard let cocoa = error as? CocoaError else { return nil }
    let path = (cocoa.userInfo[NSFilePathErrorKey] as? String) ?? cocoa.userInfo[NSURLErrorKey].map { "\($0)" } ?? "a file"
    switch cocoa.code {
    case .fileWriteOutOfSpace: return "no space left on the device while writing \(path): free some space and run again (nothing half-written was kept)"
    case .fileWriteVolumeReadOnly: return "cannot write \(path): the file system is read-only; choose another output path"
    case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied for \(path)"
    case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder: \(path)"
    case .fileWriteFileExists: return "\(path) already exists"
    default: return "file operation on \(path) failed (\(cocoa.code.rawValue)): \(cocoa.localizedDescription)"
    }
}

/// Writes `line` and a line end to standard error (progress, notes and warnings of the tools).
public func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Whether standard error is a terminal: progress lines are shown there and kept out of pipes.
public var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

/// Refuses a number option that is not a finite number of at least `minimum` (ArgumentParser
/// reads "nan" and "inf" as numbers).
public func requireFinite(_ flag: String, _ value: Double, atLeast minimum: Double) throws {
    guard value.isFinite, value >= minimum else {
        throw ValidationError("\(flag) must be a finite number ≥ \(minimum), got \(value)")
    }
}
