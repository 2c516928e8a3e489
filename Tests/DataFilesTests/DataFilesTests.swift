import Foundation
import Testing
import TestSupport
@testable import DataFiles

@Suite struct DataFilesTests {
    func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = try Scratch.directory("modnas-datafiles") + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test func gzipAndPlainFilesReadTheSame() throws {
        let shipped = try ShippedData.path("Devices/nb201/test_accuracy_200ep.csv.gz")
        let table = try CSVTable(contentsOf: shipped)
        #expect(table.rows.count == 15_625 && table.header.first == "arch_index")
        let plain = try temporaryFile("plain.csv", Array("a,b\n1,2\n".utf8))
        #expect(try CSVTable(contentsOf: plain).rows == [["1", "2"]])
    }

    @Test func truncatedGzipIsReportedAsDamaged() throws {
        let shipped = try ShippedData.path("Devices/nb201/test_accuracy_200ep.csv.gz")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: shipped)))
        let cut = try temporaryFile("cut.csv.gz", Array(bytes.prefix(bytes.count / 2)))
        #expect(throws: DataFileError.self) { try GzipFile.read(cut) }
        do { _ = try GzipFile.read(cut) } catch {
            #expect("\(error)".contains("is damaged"))
        }
    }

    @Test func missingFileAndColumnSayWhatIsWrong() throws {
        #expect(throws: DataFileError.unreadable(path: "/nonexistent/x.csv", reason: "no such file")) {
            try CSVTable(contentsOf: "/nonexistent/x.csv")
        }
        let table = try CSVTable(text: "arch_index,arch_string\n0,x\n", path: "t.csv")
        #expect(throws: DataFileError.self) { try table.column("latency") }
        #expect(throws: DataFileError.self) { try CSVTable(text: "a,b\n1\n", path: "t.csv") }
        #expect(throws: DataFileError.self) { try CSVTable(text: "a\nx\n", path: "t.csv").numericColumn("a") }
    }

    @Test func quotedFieldsAndCRLF() throws {
        let t = try CSVTable(text: "name,note\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\r\nc,d\r\n", path: "q.csv")
        #expect(t.rows == [["a,b", "say \"hi\""], ["c", "d"]])
    }

    @Test func byteOrderMarkIsDropped() throws {
        let path = try temporaryFile("bom.csv", [0xEF, 0xBB, 0xBF] + Array("arch_index,x\r\n1,2\r\n".utf8))
        let t = try CSVTable(contentsOf: path)
        #expect(t.header == ["arch_index", "x"] && t.rows == [["1", "2"]])
    }

    @Test func recordsRoundTripThroughTheReader() throws {
        let fields = ["plain", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", ""]
        let text = CSVTable.record(["h1", "h2", "h3", "h4", "h5", "h6"]) + "\n" + CSVTable.record(fields) + "\n"
        #expect(try CSVTable(text: text, path: "r.csv").rows == [fields])
        #expect(CSVTable.record(["a", "b"]) == "a,b")
    }
}
