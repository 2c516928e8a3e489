import CLibFuzzer
import Foundation
import ParserFuzzing

/// One input, any bytes: the parsers must throw, never trap.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    ParserFuzzing.run(data.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

/// The executable's entry point (SwiftPM links `main` to `modnas_fuzz_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("modnas_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOneInput($0, $1) }
}
