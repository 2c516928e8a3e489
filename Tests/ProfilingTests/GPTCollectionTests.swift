import Foundation
import GRDB
import Measurements
import Testing
@testable import ProfileStore
@testable import Profiling
import SearchSpaces
import NB201Space

/// Profiling a host in the GPT space: the setting (batch, phase, sequence length) is part of the
/// device; another setting under the same name and a network too large for the host are refused
/// before anything is stored.
@Suite struct GPTCollectionTests {
    /// The 10 references and one sample, one decoding step after 8 cached tokens over a 97-token
    /// vocabulary (the references' widths and depths are HW-GPT-Bench's; the vocabulary keeps the test small).
    func options(_ dir: String, shape: [String: String], batch: Int = 1) -> CollectOptions {
        var o = CollectOptions()
        o.space = .gpt
        o.profilesDirectory = dir + "/Profiles"
        o.samples = 1
        o.rounds = 1
        o.events = []
        o.energy = .off
        o.targetCI = 0
        o.recheckPercent = 0
        o.settings = MeasurementSettings(repeats: 2, warmup: 0, batch: batch, shape: NetworkShape(shape), unstableCV: 10)
        return o
    }

    @Test func theSettingIsPartOfTheDeviceAndIsStoredWithItsSession() throws {
        let dir = try scratchDirectory()
        let store = try ProfileDatabase(writer: DatabaseQueue())
        let decode = ["phase": "decode", "sequence-length": "8", "vocabulary": "97"]
        let summary = try Collector(options: options(dir, shape: decode)) { store }.run()
        #expect(summary.device == Collector.defaultDeviceName() + "-decode8")
        #expect(summary.measured == 11 && summary.featuresPath?.hasSuffix("\(summary.device).gpt.json") == true)
        let stored = try store.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT configKey, configuration FROM session")!
        }
        let configuration = try JSONSerialization.jsonObject(with: Data((stored["configuration"] as String).utf8)) as! [String: String]
        #expect(configuration["networkShape"] == "phase=decode,sequence-length=8,vocabulary=97")
        #expect((stored["configKey"] as String).contains("sequence=8;phase=decode"))
        let rows = try store.exportRows(device: summary.device).count

        // The same name at another phase is refused before a session opens.
        var prefill = options(dir, shape: ["phase": "prefill", "sequence-length": "8", "vocabulary": "97"])
        prefill.device = summary.device
        #expect(throws: StoreError.otherSetting(device: summary.device, space: "gpt", stored: "phase=decode", requested: "phase=prefill")) {
            try Collector(options: prefill) { store }.run()
        }
        #expect(try store.exportRows(device: summary.device).count == rows)
        #expect(try store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM session") } == 1)
    }

    @Test func aNetworkBeyondTheHostsMemoryIsRefusedBeforeTheStoreOpens() throws {
        let dir = try scratchDirectory()
        var opened = false
        // 2²⁰ tokens × 1,024 sequences: the logits alone need terabytes.
        let huge = options(dir, shape: ["sequence-length": "\(1 << 20)"], batch: 1024)
        #expect {
            try Collector(options: huge) {
                opened = true
                return try ProfileDatabase(writer: DatabaseQueue())
            }.run()
        } throws: { error in
            guard case ProfilingError.tooLargeForHost(_, let needed, let available, _) = error else { return false }
            return needed > available && "\(error)".contains("lower --batch or --sequence-length")
        }
        #expect(!opened)
    }

    @Test func aShapeParameterOfAnotherSpaceIsRefused() {
        #expect(throws: ShapeError.unknownParameter(name: "phase", space: .nb201, known: NB201NetworkShape.parameterNames)) {
            try SpaceName.nb201.searchSpace(shape: NetworkShape(["phase": "decode"]))
        }
        #expect(throws: ShapeError.self) { try SpaceName.gpt.searchSpace(shape: NetworkShape(["phase": "generate"])) }
        #expect(throws: ShapeError.self) { try SpaceName.ofa.searchSpace(shape: NetworkShape(["channels": "8"])) }
    }
}
