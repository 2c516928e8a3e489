import DataFiles
import Foundation

/// ONNX Runtime in a worker process (`scripts/onnxruntime-worker.py` under the Python of
/// `MODNAS_PYTHON`, else the checkout's `.venv`): one model at a time, timed in the worker, the
/// timings back over a pipe. Started by `init`, stopped by `stop` (or when released).
public final class ONNXRuntimeWorker {
    /// "onnxruntime 1.32.0 threads 1 providers CPUExecutionProvider", as the worker reports itself.
    public private(set) var description = ""
    public private(set) var version = ""
    public var processIdentifier: Int32 { process.processIdentifier }

    private let process = Process()
    private let requests: FileHandle, replies: FileHandle
    private var buffer = Data()
    private let errorLog: String

    /// The Python that has onnxruntime: `MODNAS_PYTHON`, else `.venv/bin/python` of the checkout.
    public static func python() throws -> String {
        if let python = ProcessInfo.processInfo.environment["MODNAS_PYTHON"] { return python }
        do { return try ShippedData.path(".venv/bin/python") } catch {
            throw ProfilingError.runtimeUnavailable("no .venv/bin/python in the checkout")
        }
    }

    public init(threads: Int) throws {
        let python = try Self.python()
        let script: String
        do { script = try ShippedData.path("scripts/onnxruntime-worker.py") } catch {
            throw ProfilingError.runtimeUnavailable("scripts/onnxruntime-worker.py is not found")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else { throw ProfilingError.runtimeUnavailable("\(python) is not an executable") }
        let input = Pipe(), output = Pipe()
        errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("modnas-ort-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--threads", String(threads)]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLog))
        do { try process.run() } catch { throw ProfilingError.runtimeUnavailable("cannot start \(python): \(error.localizedDescription)") }
        requests = input.fileHandleForWriting
        replies = output.fileHandleForReading
        guard let ready = try? readLine(), ready.hasPrefix("ready ") else {
            let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
            stop()
            throw ProfilingError.runtimeUnavailable(log.split(separator: "\n").last.map(String.init) ?? "the worker did not start")
        }
        description = String(ready.dropFirst("ready ".count))
        version = description.split(separator: " ").dropFirst().first.map(String.init) ?? "unknown"
    }

    deinit { stop() }

    /// Loads a model; returns its input shape.
    @discardableResult
    public func load(_ path: String) throws -> [Int] {
        let reply = try request("load \(path)")
        guard reply.hasPrefix("ok ") else { throw ProfilingError.runtimeFailed("\(path): \(reply)") }
        return reply.dropFirst(3).split(separator: ",").compactMap { Int($0) }
    }

    /// `warmup` untimed runs of the loaded model, then `repeats` timed ones: wall and the worker
    /// thread's CPU time per run (ms).
    public func time(repeats: Int, warmup: Int) throws -> (wall: [Double], cpu: [Double]) {
        let reply = try request("time \(repeats) \(warmup)")
        let words = reply.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 4, words[0] == "ms", words[2] == "cpu" else { throw ProfilingError.runtimeFailed(reply) }
        let wall = words[1].split(separator: ",").compactMap { Double($0) }, cpu = words[3].split(separator: ",").compactMap { Double($0) }
        guard wall.count == repeats, cpu.count == repeats else { throw ProfilingError.runtimeFailed("\(repeats) timings asked, reply: \(reply.prefix(80))") }
        return (wall, cpu)
    }

    /// Asks the worker to quit and waits for it.
    public func stop() {
        if process.isRunning {
            try? requests.write(contentsOf: Data("quit\n".utf8))
            try? requests.close()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: errorLog)
    }

    private func request(_ line: String) throws -> String {
        guard process.isRunning else { throw ProfilingError.runtimeFailed("the worker is not running") }
        do { try requests.write(contentsOf: Data((line + "\n").utf8)) } catch {
            throw ProfilingError.runtimeFailed("cannot write to the worker: \(error.localizedDescription)")
        }
        return try readLine()
    }

    private func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = replies.availableData
            guard !chunk.isEmpty else {
                let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
                throw ProfilingError.runtimeFailed("the worker exited" + (log.isEmpty ? "" : ": " + (log.split(separator: "\n").last.map(String.init) ?? "")))
            }
            buffer.append(chunk)
        }
    }
}

/// A model loaded in the worker: timed there, on the worker's thread.
public struct RuntimeSubject: TimedSubject {
    public let worker: ONNXRuntimeWorker

    public func warmUp(_ passes: Int) throws { if passes > 0 { _ = try worker.time(repeats: 0, warmup: passes) } }
    public func timedPasses(_ repeats: Int) throws -> (wall: [Double], cpu: [Double]) { try worker.time(repeats: repeats, warmup: 0) }
    public func pass() throws { _ = try worker.time(repeats: 1, warmup: 0) }
}
