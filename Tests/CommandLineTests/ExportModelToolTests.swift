import Foundation
import Testing

@Suite struct ExportModelToolTests {
    /// One model per distinct architecture (the repeated row is written once).
    @Test func aListBecomesOneModelPerArchitecture() throws {
        let dir = try scratch()
        try Data("arch_string\r\n|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|\r\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\r\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\r\n".utf8)
            .write(to: URL(fileURLWithPath: dir + "/list.csv"))
        let r = try runTool("modnas", ["export-model", "--archs", dir + "/list.csv", "--out-dir", dir + "/models", "--channels", "4", "--cells", "1"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix(dir + "/models/arch-0.onnx") && lines[1].contains("|none~0|"))
        // Node 1 (a 3×3 conv) reaches the output only through none, and node 2 has only none
        // inputs, so the conv it feeds is a constant: of the convolutions, the stem's and the 2 × 3
        // of the reduction blocks are left.
        #expect(lines[0].contains("7 convolution") && lines[0].contains("3 constant"))
        #expect(FileManager.default.fileExists(atPath: dir + "/models/arch-1.onnx"))
    }

    @Test func anOFAArchitectureExportsWithItsResolution() throws {
        let dir = try scratch()
        let r = try runTool("modnas", ["export-model", "--space", "ofa", "--arch", "r160_k3e4-k5e6_k3e3-k3e3-k7e6_k5e4-k5e4_k3e6-k3e6-k3e6-k3e6_k7e3-k5e4",
                                       "--out", dir + "/ofa.onnx"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("depthwiseConvolution") && r.out.contains("scaleChannels") && FileManager.default.fileExists(atPath: dir + "/ofa.onnx"))
    }

    @Test func badRequestsAreOneLine() throws {
        let dir = try scratch()
        try expectOneLineError("modnas", ["export-model", "--arch", "|nor_conv_3x3~0|", "--out", dir + "/a.onnx"], "malformed NB201 architecture")
        try expectOneLineError("modnas", ["export-model", "--out", dir + "/a.onnx"], "give --arch")
        try expectOneLineError("modnas", ["export-model", "--arch", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                                          "--arch", "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|", "--out", dir + "/a.onnx"], "need --out-dir")
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.onnx"))
    }
}
