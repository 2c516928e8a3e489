import Foundation

/// The project's versioned JSON files (a `"format": "modnas.<kind>.v<N>"` field): one reader that
/// checks the format before decoding the rest, one writer (sorted keys, ISO 8601 dates, written
/// atomically into a folder it creates).
public enum VersionedJSON {
    /// Why bytes did not decode, for the caller to word in its own error.
    public enum Failure: Error, Sendable {
        /// Not JSON, or no `format` field.
        case noFormat
        /// Another format (an older or newer version, or another kind of file).
        case otherFormat(String)
        /// The right format, but the contents do not decode.
        case damaged(DecodingProblem)
    }

    /// The one field read before the rest.
    struct Header: Decodable { var format: String? }

    /// `data` decoded as `T` once its `format` field is `format`.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, format: String) throws(Failure) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let found = (try? decoder.decode(Header.self, from: data))?.format else { throw .noFormat }
        guard found == format else { throw .otherFormat(found) }
        do { return try decoder.decode(T.self, from: data) } catch { throw .damaged(DecodingProblem(error)) }
    }

    /// Writes `value` to `path`, creating its folder; `pretty` indents it for people to read.
    public static func write<T: Encodable>(_ value: T, to path: String, pretty: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(atPath: FilePath.folder(of: path), withIntermediateDirectories: true)
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Paths as the tools take them from the command line.
public enum FilePath {
    /// The folder that holds `path` ("." for a bare file name).
    public static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }
}
