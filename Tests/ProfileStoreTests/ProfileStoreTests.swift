import DataFiles
import DeviceModel
import Foundation
import Synchronization
import GRDB
import Measurements
import SearchSpaces
import Statistics
import Testing
import TestSupport
@testable import ProfileStore

/// A fresh temporary folder for one test.
func temporaryDirectory() throws -> String { try Scratch.directory("modnas-store") }

/// Builds databases with measured devices.
struct Fixture {
    /// Stores measurements of `strings` for `device` under `configKey` (median k + 1 ms for the
    /// k-th unless `medians` are given); returns the session.
    @discardableResult
    static func measure(_ db: ProfileDatabase, device: String, strings: [String], medians: [Double]? = nil, configKey: String = "k") throws -> SessionRecord {
        let d = try db.upsertDevice(name: device, source: .measured, fingerprint: nil)
        let session = try db.session(matching: SessionRecord(uuid: UUID().uuidString, deviceId: d.id!, kind: .measured,
                                                             space: "nb201", configKey: configKey, configuration: "{}",
                                                             startedAt: Date()))
        for (k, s) in strings.enumerated() {
            let m = MeasurementRecord(sessionId: session.id!, architectureId: 0, role: "sample", label: .measured,
                                      repetitionCount: 3, medianMs: medians?[k] ?? Double(k + 1), attempts: 1,
                                      unstable: false, measuredAt: Date())
            let counters = [CounterValueRecord(measurementId: 0, event: "task-clock", perInference: 1000, total: 3000,
                                               timeEnabledNs: 10, timeRunningNs: 10, scaled: false),
                            CounterValueRecord(measurementId: 0, event: "cycles", absentReason: "ENOENT")]
            let energy = EnergyRecord(measurementId: 0, source: "none", absentReason: "no source")
            try db.save(ArchitectureResult(architectureString: s, architectureIndex: k, measurement: m, repetitionsMs: [1, 2, 3], counters: counters,
                                           energy: energy), space: "nb201")
        }
        return session
    }
}

@Suite struct SchemaTests {
    @Test func newDatabaseIsMigratedAndReopens() throws {
        let path = try temporaryDirectory() + "/p.sqlite"
        _ = try ProfileDatabase(path: path)
        let again = try ProfileDatabase(path: path)
        let tables = try again.writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for t in ["device", "architecture", "session", "measurement", "counterValue", "energy", "sessionEvent"] {
            #expect(tables.contains(t))
        }
        let journal = try again.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func concurrentOpenersOfANewFileAllSucceed() throws {
        let dir = try temporaryDirectory()
        let failures = Mutex<[String]>([])
        for trial in 0..<20 {
            let path = "\(dir)/p\(trial).sqlite"
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do { try Fixture.measure(try ProfileDatabase(path: path), device: "h", strings: ["a"]) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
    }

    @Test func readOnlyOpeningNeedsAnExistingDatabase() throws {
        let path = try temporaryDirectory() + "/missing.sqlite"
        #expect { try ProfileDatabase(path: path, readOnly: true) } throws: { "\($0)".contains("no such file") }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func newerSchemaIsRefusedAndLeftUntouched() throws {
        let path = try temporaryDirectory() + "/p.sqlite"
        let db = try ProfileDatabase(path: path)
        try Fixture.measure(db, device: "h", strings: ["a", "b"])
        try db.writer.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v99-future"])) { try ProfileDatabase(path: path) }
        let raw = try DatabaseQueue(path: path)
        #expect(try raw.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM measurement") } == 2)
    }

    @Test func foreignDatabasesAndBadPathsAreRefused() throws {
        let dir = try temporaryDirectory()
        let foreign = dir + "/other.sqlite"
        try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE t (x)") }
        #expect(throws: StoreError.notAProfileDatabase(path: foreign)) { try ProfileDatabase(path: foreign) }
        let text = dir + "/notes.sqlite"
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: StoreError.notSQLite(path: text)) { try ProfileDatabase(path: text) }
        let empty = dir + "/empty.sqlite"
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: StoreError.emptyDatabase(path: empty)) { try ProfileDatabase(path: empty, readOnly: true) }
        #expect(throws: StoreError.self) { try ProfileDatabase(path: dir + "/missing-folder/p.sqlite") }
        do { _ = try ProfileDatabase(path: dir + "/missing-folder/p.sqlite") } catch {
            #expect("\(error)".contains("writable"))
        }
    }
}

@Suite struct ResumeAndMergeTests {
    @Test func sessionsAreSharedPerConfigurationAndSavesAreOnce() throws {
        let db = try ProfileDatabase(path: try temporaryDirectory() + "/p.sqlite")
        let first = try Fixture.measure(db, device: "h", strings: ["a", "b", "c"])
        let second = try Fixture.measure(db, device: "h", strings: [], configKey: "k")
        #expect(first.id == second.id)
        let other = try Fixture.measure(db, device: "h", strings: ["a"], configKey: "another")
        #expect(other.id != first.id)
        #expect(try db.storedRounds(deviceId: first.deviceId, configKey: "k") == ["a": 1, "b": 1, "c": 1])
        // Saving an architecture the session already holds writes nothing.
        let again = MeasurementRecord(sessionId: first.id!, architectureId: 0, role: "sample", label: .measured,
                                      medianMs: 9, attempts: 1, unstable: false)
        #expect(try !db.save(ArchitectureResult(architectureString: "a", architectureIndex: 0, measurement: again,
                                                counters: [], energy: nil), space: "nb201"))
    }

    @Test func mergingTwiceChangesNothing() throws {
        let dir = try temporaryDirectory()
        let a = try ProfileDatabase(path: dir + "/a.sqlite"), b = try ProfileDatabase(path: dir + "/b.sqlite")
        try Fixture.measure(a, device: "host-a", strings: ["x", "y"])
        try Fixture.measure(b, device: "host-b", strings: ["y", "z", "w"])
        try Fixture.measure(b, device: "host-a", strings: ["q"], configKey: "k")
        let merged = try ProfileDatabase(path: dir + "/m.sqlite")
        let c1 = try merged.merge(from: dir + "/a.sqlite"), c2 = try merged.merge(from: dir + "/b.sqlite")
        #expect(c1 == TransferCounts(devices: 1, sessions: 1, measurements: 2))
        #expect(c2 == TransferCounts(devices: 1, sessions: 2, measurements: 4))
        func describe(_ r: ExportRow) -> String {
            let counters: [String] = r.counters.keys.sorted().map { key in
                let value: Double? = r.counters[key] ?? nil
                return key + "=" + (value.map { String($0) } ?? "absent")
            }
            return [r.device, r.session, r.arch_string, String(r.median_ms), counters.joined(separator: ";"),
                    r.energy_absent_reason ?? ""].joined(separator: " ")
        }
        func snapshot() throws -> [String] { try merged.exportRows(device: nil).map(describe) }
        let before = try snapshot()
        #expect(before.count == 6)
        #expect(try merged.merge(from: dir + "/a.sqlite") == TransferCounts())
        #expect(try merged.merge(from: dir + "/b.sqlite") == TransferCounts())
        #expect(try snapshot() == before)
        // Counters and energy travel with their measurements.
        let row = try #require(try merged.exportRows(device: "host-b").first)
        #expect(row.counters["task-clock"] == 1000 && row.counters["cycles"] == .some(nil))
        #expect(row.counters_absent_reason["cycles"] == "ENOENT" && row.energy_absent_reason == "no source")
    }

    @Test func aLaterMergeCompletesWhatAnEarlierOneSawPartly() throws {
        let dir = try temporaryDirectory()
        let source = try ProfileDatabase(path: dir + "/source.sqlite")
        let session = try Fixture.measure(source, device: "host", strings: ["x", "y"])
        let merged = try ProfileDatabase(path: dir + "/m.sqlite")
        #expect(try merged.merge(from: dir + "/source.sqlite") == TransferCounts(devices: 1, sessions: 1, measurements: 2))
        // The collect goes on in the source: one more round of "x", with new statistics and counters.
        try source.update(sessionId: session.id!, space: "nb201", architectureString: "x", architectureIndex: 0) { existing in
            var row = try #require(existing)
            row.measurement.rounds += 1
            row.measurement.medianMs = 8.34
            row.counters[0].perInference = 2000
            return ArchitectureResult(architectureString: "x", architectureIndex: 0, measurement: row.measurement, counters: row.counters, energy: row.energy)
        }
        #expect(try merged.merge(from: dir + "/source.sqlite") == TransferCounts(devices: 0, sessions: 0, measurements: 0, completed: 1))
        let x = try #require(try merged.exportRows(device: "host").first { $0.arch_string == "x" })
        #expect(x.median_ms == 8.34 && x.counters["task-clock"] == 2000 && x.energy_absent_reason == "no source")
        #expect(try merged.exportRows(device: "host").count == 2)
        // Idempotent once complete, and an older copy never replaces a newer one.
        #expect(try merged.merge(from: dir + "/source.sqlite") == TransferCounts())
        let counters = try merged.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM counterValue") }
        #expect(counters == 4)
    }

    @Test func mergingADatabaseIntoItselfIsRefusedAtOnce() throws {
        let dir = try temporaryDirectory()
        let db = try ProfileDatabase(path: dir + "/p.sqlite")
        try Fixture.measure(db, device: "host", strings: ["x"])
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.sqlite", withDestinationPath: dir + "/p.sqlite")
        for alias in [dir + "/p.sqlite", dir + "/sub/../p.sqlite", dir + "/link.sqlite"] {
            let started = Date()
            #expect(throws: StoreError.mergeIntoItself(path: alias)) { try db.merge(from: alias) }
            #expect(Date().timeIntervalSince(started) < 5)
        }
        #expect(try db.exportRows(device: nil).count == 1)
    }

    @Test func mergeRefusesADeviceOfTheOtherSource() throws {
        let dir = try temporaryDirectory()
        let a = try ProfileDatabase(path: dir + "/a.sqlite"), b = try ProfileDatabase(path: dir + "/b.sqlite")
        try Fixture.measure(a, device: "same", strings: ["x"])
        _ = try b.upsertDevice(name: "same", source: .benchmark, fingerprint: nil)
        #expect(throws: StoreError.self) { try a.merge(from: dir + "/b.sqlite") }
    }
}

/// `stability --against`: two databases of one device compared by their medians, paired by
/// architecture string.
@Suite struct StabilityAgainstTests {
    /// Five shared architectures (and one only in each database); counted by hand: the ranks differ
    /// in one swapped pair, so Spearman 1 − 6 · 2 / (5 · 24) = 0.9 and τ = (9 − 1) / 10 = 0.8; the
    /// relative differences 0.1 / 1.05, 0.2 / 1.9, 0.3 / 3.15, 1 / 4.5, 1 / 4.5 have the median 0.2 / 1.9.
    @Test func twoDatabasesCompareTheirSharedArchitecturesMedians() throws {
        let dir = try temporaryDirectory()
        let first = try ProfileDatabase(path: "\(dir)/a.sqlite"), second = try ProfileDatabase(path: "\(dir)/b.sqlite")
        let shared = (0..<5).map { "arch-\($0)" }
        try Fixture.measure(first, device: "host", strings: shared + ["only-in-a"], medians: [1, 2, 3, 4, 5, 0.5])
        try Fixture.measure(second, device: "host", strings: ["only-in-b"] + shared, medians: [9, 1.1, 1.8, 3.3, 5, 4])
        let r = try #require(Repeatability.between(try first.latestMedians(device: "host", space: "nb201"),
                                                   try second.latestMedians(device: "host", space: "nb201")))
        #expect(r.count == 5 && r.cpu == nil)
        #expect(abs(r.wall.spearman - 0.9) < 1e-12 && abs(r.wall.kendall - 0.8) < 1e-12, "\(r.wall)")
        #expect(abs(r.wall.medianRelativeDifference - 0.2 / 1.9) < 1e-12, "\(r.wall)")
    }
}

@Suite struct ImportFeaturesExportTests {
    let latency = "arch_index,arch_string,dev_a,dev_b\n0,r0,1.5,3\n1,r1,2.5,4\n2,s,7,8\n"
    let features = "device,split,ref0_ms,ref1_ms\ndev_a,train,1.5,2.5\ndev_t,test,0.25,0.75\n"
    let refs: [(index: Int, string: String)] = [(0, "r0"), (1, "r1")]

    @Test func importIsIdempotentAndLabelsBenchmarkData() throws {
        let db = try ProfileDatabase(path: try temporaryDirectory() + "/p.sqlite")
        let l = try CSVTable(text: latency, path: "lat.csv"), f = try CSVTable(text: features, path: "feat.csv")
        #expect(try db.importBenchmark(space: "nb201", latencyTable: l, featureTable: f, references: refs)
                == TransferCounts(devices: 3, sessions: 3, measurements: 8))
        #expect(try db.importBenchmark(space: "nb201", latencyTable: l, featureTable: f, references: refs) == TransferCounts())
        let rows = try db.exportRows(device: "dev_t")
        #expect(rows.map(\.median_ms) == [0.25, 0.75] && rows.allSatisfy { $0.label == "benchmark" && $0.role == "reference" })
        let t = try db.features(device: "dev_t", space: "nb201", references: refs)
        #expect(t.values == [0.25, 0.75] && t.source == .benchmark && t.host == nil)
        #expect(try db.features(device: "dev_b", space: "nb201", references: refs).values == [3, 4])
    }

    /// HW-GPT-Bench's layout: a latency and an energy column per device, reference latencies and
    /// energies per feature row; energy lands as each measurement's energy, labelled benchmark.
    @Test func energyColumnsBecomeEnergyRows() throws {
        let db = try ProfileDatabase(path: try temporaryDirectory() + "/p.sqlite")
        let l = try CSVTable(text: "arch_index,gpu_latency_ms,gpu_energy_j\n0,1.5,0.25\n1,2.5,0.5\n2,7,2\n", path: "lat.csv")
        let f = try CSVTable(text: "device,split,kind,ref0_latency_ms,ref1_latency_ms,ref0_energy_j,ref1_energy_j\n"
                             + "gpu,train,gpu,1.5,2.5,0.25,0.5\nnew,test,gpu,3,4,0.125,0.75\n", path: "feat.csv")
        #expect(try db.importBenchmark(space: "gpt", latencyTable: l, featureTable: f, references: refs, architectureStrings: ["r0", "r1", "s"])
                == TransferCounts(devices: 2, sessions: 2, measurements: 5))
        #expect(try db.values(device: "gpu", space: "gpt", metric: .energy) == ["r0": 0.25, "r1": 0.5, "s": 2])
        #expect(try db.values(device: "gpu", space: "gpt", metric: .latency) == ["r0": 1.5, "r1": 2.5, "s": 7])
        let t = try db.features(device: "new", space: "gpt", references: refs)
        #expect(t.values == [3, 4] && t.energyValues == [0.125, 0.75] && t.energyAbsentReason == nil)
        #expect(try db.exportRows(device: "gpu").allSatisfy { $0.energy_source == "benchmark" && $0.energy_j_per_inference != nil })
        // A latency-only table leaves the energy absent, with the reason.
        let plain = try ProfileDatabase(path: try temporaryDirectory() + "/q.sqlite")
        _ = try plain.importBenchmark(space: "nb201", latencyTable: try CSVTable(text: latency, path: "lat.csv"),
                                      featureTable: try CSVTable(text: features, path: "feat.csv"), references: refs)
        let a = try plain.features(device: "dev_a", space: "nb201", references: refs)
        #expect(a.energyValues == nil && a.energyAbsentReason == "its benchmark table holds no energy")
        #expect(try plain.energyAbsence(device: "dev_a", space: "nb201") == "its benchmark table holds no energy")
        // A bad energy cell is refused with its line and column.
        let bad = try CSVTable(text: "arch_index,gpu_latency_ms,gpu_energy_j\n0,1.5,-1\n", path: "bad.csv")
        #expect(throws: DataFileError.badValue(path: "bad.csv", line: 2, column: "gpu_energy_j", value: "-1", expected: "a positive energy in J")) {
            try db.importBenchmark(space: "gpt", latencyTable: bad, featureTable: f, references: refs, architectureStrings: ["r0"])
        }
    }

    @Test func nonPositiveLatencyIsRefusedWithItsLine() throws {
        let db = try ProfileDatabase(path: try temporaryDirectory() + "/p.sqlite")
        let bad = try CSVTable(text: "arch_index,arch_string,dev\n0,r0,1\n1,r1,0\n", path: "lat.csv")
        #expect(throws: DataFileError.badValue(path: "lat.csv", line: 3, column: "dev", value: "0", expected: "a positive latency in ms")) {
            try db.importBenchmark(space: "nb201", latencyTable: bad, featureTable: try CSVTable(text: features, path: "f.csv"), references: refs)
        }
    }

    @Test func featuresNeedAllReferences() throws {
        let dir = try temporaryDirectory()
        let db = try ProfileDatabase(path: dir + "/p.sqlite")
        try Fixture.measure(db, device: "h", strings: ["r0"])
        #expect(throws: StoreError.incompleteReferences(device: "h", missing: 1)) {
            try db.features(device: "h", space: "nb201", references: refs)
        }
        try Fixture.measure(db, device: "h", strings: ["r0", "r1"], configKey: "k2")
        let f = try db.features(device: "h", space: "nb201", references: refs)
        #expect(f.values == [1, 2] && f.source == .measured && f.format == "modnas.device-features.v1")
        let path = try f.write(toDirectory: dir + "/Profiles")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(json?["reference_arch_indices"] as? [Int] == [0, 1])
        #expect(throws: StoreError.self) { try db.features(device: "nobody", space: "nb201", references: refs) }
    }

    @Test func csvExportNamesTheMedianAndLeavesAbsentValuesEmpty() throws {
        let db = try ProfileDatabase(path: try temporaryDirectory() + "/p.sqlite")
        try Fixture.measure(db, device: "h", strings: ["a"])
        let csv = try ExportFormat.csv.render(try db.exportRows(device: "h"))
        let lines = csv.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(header.contains("median_ms") && header.contains("cycles_per_inference"))
        let table = try CSVTable(text: csv, path: "export.csv")
        #expect(try table.column("cycles_per_inference") == [""])
        #expect(try table.column("task-clock_per_inference") == ["1000.0"])
        #expect(try table.column("label") == ["measured"])
        let json = try ExportFormat.json.render(try db.exportRows(device: "h"))
        #expect(json.contains("\"energy_absent_reason\" : \"no source\""))
    }
}

@Suite struct DeviceNameTests {
    @Test func namesAreNamesNotPaths() throws {
        for good in ["vm", "gold_6226", "1080ti_1", "host-a.lab", String(repeating: "a", count: 64)] {
            #expect(throws: Never.self) { try DeviceName.check(good) }
        }
        // "x.ofa" would name its NB201 file x.ofa.json, which is device x's OFA file.
        for bad in ["", "../../outside", "a/b", ".hidden", "-flag", "a,b", "a\"b", "a\nb", "naïve", String(repeating: "a", count: 65), "x.ofa"] {
            #expect { try DeviceName.check(bad) } throws: { "\($0)".contains("is not a name") && !"\($0)".contains(where: \.isNewline) }
        }
    }

    @Test func theStoreAndFeatureFilesRefuseBadNames() throws {
        let dir = try temporaryDirectory()
        let db = try ProfileDatabase(path: dir + "/p.sqlite")
        #expect(throws: DeviceModelError.badDeviceName(name: "a/b")) { try db.upsertDevice(name: "a/b", source: .measured, fingerprint: nil) }
        let features = DeviceFeatures(device: "../outside", source: .measured, referenceArchIndices: [1], values: [1], host: nil)
        #expect(throws: DeviceModelError.badDeviceName(name: "../outside")) { try features.write(toDirectory: dir + "/Profiles") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/outside.json"))
    }

    @Test func aMeasuredHostDoesNotReplaceABenchmarkDevice() throws {
        let dir = try temporaryDirectory() + "/Profiles"
        let benchmark = DeviceFeatures(device: "lab_gpu", source: .benchmark, referenceArchIndices: [1], values: [2], host: nil)
        try benchmark.write(toDirectory: dir)
        let host = DeviceFeatures(device: "lab_gpu", source: .measured, referenceArchIndices: [1], values: [3], host: nil)
        #expect(throws: DeviceModelError.shadowsBenchmark(name: "lab_gpu")) { try host.write(toDirectory: dir) }
        #expect(try DeviceFeatures.load(dir + "/lab_gpu.json") == benchmark)
        // A shipped benchmark device's name is refused even in a folder without its file.
        let raspi = DeviceFeatures(device: "raspi4", source: .measured, referenceArchIndices: [1], values: [3], host: nil)
        #expect(throws: DeviceModelError.shadowsBenchmark(name: "raspi4")) { try raspi.write(toDirectory: dir) }
        try host.write(toDirectory: dir, force: true)
        #expect(try DeviceFeatures.load(dir + "/lab_gpu.json") == host)
        try host.write(toDirectory: dir)   // a measured file may be rewritten by its host
    }
}

@Suite struct SchemaUpgradeTests {
    /// A database of the first schema (repetitions as JSON arrays), as the previous modnas wrote it.
    func firstSchemaDatabase() throws -> String {
        let path = try temporaryDirectory() + "/v1.sqlite"
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO device (name, source, createdAt) VALUES ('host', 'measured', '2026-01-01')")
            try db.execute(sql: "INSERT INTO architecture (space, archIndex, archString) VALUES ('nb201', 7, 'a7')")
            try db.execute(sql: """
                INSERT INTO session (uuid, deviceId, kind, space, configKey, configuration, startedAt)
                VALUES ('u', 1, 'measured', 'nb201', 'k', '{}', '2026-01-01')
                """)
            try db.execute(sql: """
                INSERT INTO measurement (sessionId, architectureId, role, label, repetitionsMs, repetitionCount, medianMs, attempts)
                VALUES (1, 1, 'sample', 'measured', '[3.5, 1.25, 2.0]', 3, 2.0, 1)
                """)
        }
        return path
    }

    @Test func upgradeTurnsJSONRepetitionsIntoRows() throws {
        let path = try firstSchemaDatabase()
        let store = try ProfileDatabase(path: path)
        let rows = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT ordinal, ms FROM repetition ORDER BY ordinal").map { ($0[0] as Int, $0[1] as Double) }
        }
        #expect(rows.map(\.0) == [0, 1, 2] && rows.map(\.1) == [3.5, 1.25, 2.0])
        let columns = try store.writer.read { db in try db.columns(in: "measurement").map(\.name) }
        #expect(!columns.contains("repetitionsMs"))
        let row = try #require(try store.exportRows(device: "host").first)
        #expect(row.repetitions == 3)
        // Rows stored before CPU time was recorded have none, and say why.
        #expect(row.cpu_median_ms == nil && row.cpu_absent_reason == CPUTime.olderSchemaReason)
        // …nor steal time and switches; their session reads wall time.
        #expect(row.steal_ms == nil && row.involuntary_switches == nil && row.host_noise_absent_reason == HostNoiseAbsence.olderSchemaReason)
        #expect(row.latency_clock == "wall")
    }

    /// A v5 store (NB201's shape in three session columns) keeps every session's shape after the
    /// upgrade: NB201's from the columns, another space's from the configuration it recorded.
    @Test func upgradeMovesTheShapeColumnsIntoNetworkShape() throws {
        let path = try temporaryDirectory() + "/v5.sqlite"
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v5-latency-clock-host-noise")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO device (name, source, createdAt) VALUES ('host', 'measured', '2026-01-01')")
            try db.execute(sql: """
                INSERT INTO session (uuid, deviceId, kind, space, configKey, configuration, channels, cells, resolution, startedAt) VALUES
                    ('n', 1, 'measured', 'nb201', 'k1', '{}', 8, 2, 16, '2026-01-01'),
                    ('g', 1, 'measured', 'gpt', 'k2', '{"networkShape": "phase=decode,sequence-length=128"}', NULL, NULL, NULL, '2026-01-01'),
                    ('o', 1, 'measured', 'ofa', 'k3', '{"networkShape": ""}', NULL, NULL, NULL, '2026-01-01')
                """)
        }
        let store = try ProfileDatabase(path: path)
        let shapes = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT uuid, networkShape FROM session ORDER BY uuid").map { ($0[0] as String, $0[1] as String?) }
        }
        #expect(shapes.map(\.0) == ["g", "n", "o"])
        #expect(shapes.map(\.1) == ["phase=decode,sequence-length=128", "cells=2,channels=8,resolution=16", nil])
        let columns = try store.writer.read { db in try db.columns(in: "session").map(\.name) }
        #expect(columns.contains("networkShape") && !columns.contains("channels") && !columns.contains("cells") && !columns.contains("resolution"))
    }

    /// A read command on a writable file of the older schema upgrades it and reads it.
    @Test func readOnlyOpeningUpgradesAWritableOlderFile() throws {
        let path = try firstSchemaDatabase()
        let store = try ProfileDatabase(path: path, readOnly: true)
        #expect(try store.exportRows(device: "host").map(\.median_ms) == [2.0])
    }

    /// The store on an in-memory writer: what tests of the sink use.
    @Test func inMemoryStoreTakesRoundsThroughTheSink() throws {
        let store = try ProfileDatabase(writer: DatabaseQueue())
        let host = HostFingerprint(hostname: "h", cpuModel: "x", cpuFlags: [], logicalCPUs: 1, allowedCPUs: [0], frequencyGovernor: nil,
                                   turbo: nil, loadAverage: [0, 0, 0], memoryBytes: nil, kernel: "6", virtualization: "none",
                                   openBLASCore: "Haswell", openBLASCoreOrigin: "test", openBLASThreads: 1, unreadable: [:], warnings: [])
        let request = SessionRequest(device: "mem", host: host, space: "nb201", configurationKey: "k", configuration: [:], batch: 1,
                                     threads: 1, repeats: 4, warmup: 0, networkShape: NetworkShape(["channels": "16", "cells": "5", "resolution": "32"]), events: ["cycles"],
                                     energyMode: "off")
        let events = [EventStatus(name: "cycles", encoding: "cycles", supported: true, privilege: "user")]
        let session = try store.openSession(request, events: events, rounds: 2)
        #expect(try store.writer.read { db in try String.fetchOne(db, sql: "SELECT networkShape FROM session") } == "cells=5,channels=16,resolution=32")
        func round(_ k: Int, _ reps: [Double], cycles: Double) -> RoundMeasurement {
            RoundMeasurement(architecture: "a", index: 1, role: "sample", round: k, repetitionsMs: reps, cpuRepetitionsMs: reps.map { $0 / 2 },
                             attempts: 1, unstable: false,
                             counters: ["cycles": .counted(total: cycles, passes: 2, timeEnabledNs: 5, timeRunningNs: 5, scaled: false)],
                             energy: .absent(reason: "off"))
        }
        #expect(try store.append(round(1, [4, 2], cycles: 100), to: session))
        #expect(try !store.append(round(1, [9, 9], cycles: 1), to: session), "a round stored twice")
        #expect(try store.append(round(2, [1, 3], cycles: 300), to: session))
        let row = try #require(try store.exportRows(device: "mem").first)
        // Statistics over all four repetitions; the counter summed over both windows (4 passes).
        #expect(row.repetitions == 4 && row.median_ms == 2.5)
        // CPU time per repetition is kept beside wall time, with its own statistics over both rounds.
        #expect(row.cpu_median_ms == 1.25 && row.cpu_absent_reason == nil)
        let cpu = try store.writer.read { db in try Double.fetchAll(db, sql: "SELECT cpuMs FROM repetition ORDER BY ordinal") }
        #expect(cpu == [2, 1, 0.5, 1.5])
        #expect(row.counters["cycles"] == 100.0)
        #expect(try store.openSession(request, events: events, rounds: 2).storedRounds == ["a": 2])
    }
}
