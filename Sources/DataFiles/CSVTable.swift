/// Lines of text files written on any system.
public enum TextLines {
    /// `text` without a leading UTF-8 byte-order mark (as Excel and some editors write).
    public static func droppingByteOrderMark(_ text: String) -> String {
        text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// The lines of `text`, split at `\n`, `\r\n` or `\r` (Swift counts `\r\n` as one character,
    /// so splitting at `"\n"` alone would keep a CRLF file in one piece).
    public static func split(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }
}

/// A CSV file with a header row, read whole (optionally gzip-compressed). Fields may be quoted
/// with double quotes; quotes inside quoted fields are doubled.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws {
        try self.init(text: try GzipFile.readText(path), path: path)
    }

    /// Parses CSV `text` (`\n` or `\r\n` line ends, an optional byte-order mark); `path` names
    /// the source in errors.
    public init(text: String, path: String) throws {
        var lines = CSVTable.records(TextLines.droppingByteOrderMark(text))
        guard !lines.isEmpty else { throw DataFileError.corrupt(path: path, reason: "empty file, expected a header row") }
        let header = lines.removeFirst()
        for (i, row) in lines.enumerated() where row.count != header.count {
            throw DataFileError.corrupt(path: path, reason: "line \(i + 2) has \(row.count) fields, the header has \(header.count)")
        }
        self.path = path
        self.header = header
        self.rows = lines
    }

    /// The position of column `name`.
    public func columnIndex(_ name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            throw DataFileError.missingColumn(path: path, column: name, available: header)
        }
        return i
    }

    /// The values of column `name`, top to bottom.
    public func column(_ name: String) throws -> [String] {
        let i = try columnIndex(name)
        return rows.map { $0[i] }
    }

    /// The values of column `name` as numbers; a non-number names its line.
    public func numericColumn(_ name: String) throws -> [Double] {
        let values = try column(name)
        return try values.enumerated().map { line, v in
            guard let d = Double(v) else {
                throw DataFileError.badValue(path: path, line: line + 2, column: name, value: v, expected: "a number")
            }
            return d
        }
    }

    /// Splits text into records of fields, skipping blank lines.
    static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, afterQuote = false
        var chars = text.makeIterator()
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(fields) }
            fields = []
            field = ""
        }
        while let c = chars.next() {
            if quoted {
                if c == "\"" { quoted = false; afterQuote = true } else { field.append(c) }
                continue
            }
            switch c {
            case "\"":
                if afterQuote { field.append("\"") }
                quoted = true
            case ",": fields.append(field); field = ""
            case "\n", "\r\n": endRecord()
            case "\r": break
            default: field.append(c)
            }
            afterQuote = false
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

extension CSVTable {
    /// One CSV record as this reader (and Python's csv module) reads it back: fields joined by
    /// commas, a field quoted, with its quotes doubled, when it holds a comma, a quote or a line break.
    public static func record(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
