import Testing
@testable import Autodiff

@Suite struct OpenBLASCoreSelectionTests {
    let skylakeFlags: Set<String> = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    @Test func bestCoreFollowsTheVectorISA() {
        #expect(OpenBLASCoreSelection.supportedCore(cpuFlags: skylakeFlags) == "SkylakeX")
        #expect(OpenBLASCoreSelection.supportedCore(cpuFlags: ["avx", "avx2", "fma"]) == "Haswell")
        #expect(OpenBLASCoreSelection.supportedCore(cpuFlags: ["avx"]) == "Sandybridge")
        #expect(OpenBLASCoreSelection.supportedCore(cpuFlags: ["sse4_2"]) == nil)
        // AVX-512F alone (e.g. Knights Landing) is not SkylakeX.
        #expect(OpenBLASCoreSelection.supportedCore(cpuFlags: ["avx512f", "avx2", "fma"]) == "Haswell")
    }

    @Test func weakerDetectedCoreIsUpgraded() {
        #expect(OpenBLASCoreSelection.decide(userSetting: nil, alreadyAutoSelected: false, detected: "Prescott",
                                             cpuFlags: skylakeFlags) == .tryCore("SkylakeX"))
        #expect(OpenBLASCoreSelection.decide(userSetting: nil, alreadyAutoSelected: false, detected: "Haswell",
                                             cpuFlags: skylakeFlags) == .tryCore("SkylakeX"))
    }

    @Test func userSettingAndGoodDetectionAreKept() {
        #expect(OpenBLASCoreSelection.decide(userSetting: "Prescott", alreadyAutoSelected: false, detected: "Prescott",
                                             cpuFlags: skylakeFlags) == .keep(.userSetting))
        #expect(OpenBLASCoreSelection.decide(userSetting: nil, alreadyAutoSelected: false, detected: "SkylakeX",
                                             cpuFlags: skylakeFlags) == .keep(.detected))
        #expect(OpenBLASCoreSelection.decide(userSetting: nil, alreadyAutoSelected: false, detected: "Zen",
                                             cpuFlags: ["avx", "avx2", "fma"]) == .keep(.detected))
        // Unknown core names (other architectures, newer OpenBLAS) are left alone.
        #expect(OpenBLASCoreSelection.decide(userSetting: nil, alreadyAutoSelected: false, detected: "NeoverseN1",
                                             cpuFlags: []) == .keep(.detected))
        // A re-executed process never re-executes again.
        #expect(OpenBLASCoreSelection.decide(userSetting: "SkylakeX", alreadyAutoSelected: true, detected: "SkylakeX",
                                             cpuFlags: skylakeFlags) == .keep(.autoSelected))
    }

    @Test func cpuinfoFlagsAreParsed() {
        let text = "processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu sse avx2 fma\nbugs\t\t: none\n"
        #expect(OpenBLASCoreSelection.cpuFlags(cpuinfo: text) == ["fpu", "sse", "avx2", "fma"])
        #expect(OpenBLASCoreSelection.cpuFlags(cpuinfo: "Features: neon\n").isEmpty)
    }

    @Test func sgemmOfTheLoadedCorePassesTheSelfTest() {
        #expect(OpenBLASCoreSelection.sgemmSelfTest())
    }
}
