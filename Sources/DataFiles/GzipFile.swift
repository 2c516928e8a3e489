import CZlib
import Foundation

/// Reads whole files that may be gzip-compressed (zlib's `gzopen`/`gzread` pass plain files through).
public enum GzipFile {
    /// The file's text as real tools write it: UTF-8 (validated), a leading byte-order mark
    /// dropped; line ends are left as they are (`\n` or `\r\n`).
    public static func readText(_ path: String) throws -> String {
        guard let text = String(validating: try read(path), as: UTF8.self) else {
            throw DataFileError.corrupt(path: path, reason: "not UTF-8 text")
        }
        return TextLines.droppingByteOrderMark(text)
    }

    /// The JSON file at `path` (gzip or not) decoded as `type`; one that does not decode is a
    /// corrupt-file error saying it is not `what` (e.g. "an OFA accuracy predictor file").
    public static func decodeJSON<T: Decodable>(_ type: T.Type, path: String, what: String) throws -> T {
        let text = try readText(path)
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw DataFileError.corrupt(path: path, reason: "not \(what): \(DecodingProblem(error))")
        }
    }

    /// The decompressed bytes of the file at `path`; a truncated or corrupt stream is an error.
    public static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DataFileError.unreadable(path: path, reason: exists ? "permission denied" : "no such file")
        }
        guard let file = gzopen(path, "rb") else {
            throw DataFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { gzclose(file) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                throw DataFileError.corrupt(path: path, reason: message)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        // gzread reports a stream cut short only through gzerror after end of input.
        var code: Int32 = 0
        if let message = gzerror(file, &code), code != Z_OK {
            throw DataFileError.corrupt(path: path, reason: String(cString: message))
        }
        return out
    }
}
