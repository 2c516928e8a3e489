// swift-tools-version:6.0
// The libFuzzer target for modnas's parsers: built by scripts/fuzz-parsers with
// -sanitize=fuzzer,address. A package of its own, so that the main build never links it.
import PackageDescription

let package = Package(
    name: "modnas-fuzz",
    dependencies: [.package(name: "modnas", path: "..")],
    targets: [
        .systemLibrary(name: "CLibFuzzer"),
        .executableTarget(name: "modnas-fuzz", dependencies: ["CLibFuzzer", .product(name: "ParserFuzzing", package: "modnas")],
                          swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-parse-as-library"])]),
    ]
)
