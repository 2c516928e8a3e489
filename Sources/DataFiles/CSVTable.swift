/// A CSV file with a header row, read whole (optionally gzip-compressed). Fields may be quoted
/// with double quotes; quotes inside quoted fields are doubled.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws {
        let bytes = try GzipFile.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataFileError.corrupt(path: path, reason: "not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    /// Parses CSV `text`; `path` names the source in errors.
    public init(text: String, path: String) throws {
        var lines = CSVTable.records(text)
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
