// swift-tools-version:6.0
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "modnas",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "modnas", targets: ["modnas"]),
        .executable(name: "modnas-profile", targets: ["modnas-profile"]),
        .executable(name: "modnas-predict", targets: ["modnas-predict"]),
        // For the libFuzzer package in Fuzz/ (scripts/fuzz-parsers); not a public API.
        .library(name: "ParserFuzzing", targets: ["ParserFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // System libraries: shims only for what Swift cannot import directly.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPerfEvent", providers: [.apt(["libpfm4-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),

        // The deployed graph's AVX-512 kernels (direct 3×3 convolution, 3×3 average pooling).
        .target(name: "CKernels"),
        .target(name: "Autodiff", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: v5),
        .target(name: "DataFiles", dependencies: ["CZlib"], swiftSettings: v5),
        // The seam every stage uses: the SearchSpace protocol, space names, costs, networks.
        .target(name: "SpaceCore", dependencies: ["Autodiff", "DataFiles"], swiftSettings: v5),
        // HW-GPT-Bench's GPT-2 "s" space: architectures, strings, sampler, encodings, cost counter,
        // the benchmark's perplexity predictor, the network (taped and deployed, with a KV cache).
        .target(name: "GPTSpace", dependencies: ["Autodiff", "DataFiles", "SpaceCore"], swiftSettings: v5),
        // NAS-Bench-201's cell space: architectures, strings, official index, encodings, cost
        // counts, the CIFAR-layout network and the weight-sharing supernet.
        .target(name: "NB201Space", dependencies: ["Autodiff", "DataFiles", "SpaceCore"], swiftSettings: v5),
        // Once-for-All's MobileNetV3 space: architectures, the MobileNetV3 layout and its network,
        // cost counter, encodings, OFA's ImageNet accuracy predictor.
        .target(name: "OFASpace", dependencies: ["Autodiff", "DataFiles", "SpaceCore"], swiftSettings: v5),
        // The registry: the one module that names every space (re-exports SpaceCore).
        .target(name: "SearchSpaces", dependencies: ["GPTSpace", "NB201Space", "OFASpace", "SpaceCore"], swiftSettings: v5),
        // Summaries of repeated measurements and rank agreement (no dependencies).
        .target(name: "Statistics", swiftSettings: v5),
        .target(name: "DeviceModel", dependencies: ["DataFiles", "SearchSpaces", "Statistics"], swiftSettings: v5),
        // What a profiler hands to a sink (no GRDB): rounds, sessions.
        .target(name: "Measurements", dependencies: ["DeviceModel", "SpaceCore", "Statistics"], swiftSettings: v5),
        .target(name: "ProfileStore", dependencies: [
            "CSQLiteConfig", "DataFiles", "DeviceModel", "Measurements", "SearchSpaces", "Statistics", .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: v5),
        .target(name: "Profiling", dependencies: ["Autodiff", "DataFiles", "DeviceModel", "Measurements", "ModelExport", "SearchSpaces", "Statistics", "CPerfEvent"], swiftSettings: v5),
        .target(name: "Predictors", dependencies: ["Autodiff", "DataFiles", "DeviceModel", "SearchSpaces", "Statistics", "ProfileStore"], swiftSettings: v5),
        // Zero-cost proxies: scores of untrained networks that rank architectures.
        .target(name: "Proxies", dependencies: ["Autodiff", "SearchSpaces", "Statistics"], swiftSettings: v5),
        // The engine and its evaluation; reads no database (the workflow builds its devices).
        .target(name: "Search", dependencies: ["Autodiff", "DataFiles", "Datasets", "DeviceModel", "SearchSpaces", "Predictors", "Proxies", "Statistics"], swiftSettings: v5),
        // Scoring fronts: the benchmark protocol, evaluation (HV, GD, IGD per device), baselines.
        .target(name: "Evaluation", dependencies: ["Autodiff", "DataFiles", "DeviceModel", "SearchSpaces", "Predictors", "Search", "Statistics"], swiftSettings: v5),
        // Each space's benchmark as the search and evaluation use it (tables, the benchmarks' own
        // predictors, local-search moves, NB201's supernet and rank check): names the spaces.
        .target(name: "Benchmarks", dependencies: ["Autodiff", "DataFiles", "Datasets", "DeviceModel", "Evaluation", "GPTSpace", "NB201Space", "OFASpace", "SearchSpaces", "Predictors", "Proxies", "Search", "Statistics"], swiftSettings: v5),
        .target(name: "Reports", dependencies: ["DeviceModel", "Evaluation", "Search"], swiftSettings: v5),
        .target(name: "Datasets", dependencies: ["Autodiff", "DataFiles"], swiftSettings: v5),
        // Deployed networks as files (ONNX, with the project's own protobuf writer).
        .target(name: "ModelExport", dependencies: ["Autodiff", "SearchSpaces"], swiftSettings: v5),
        // Composes the stages for the command-line tools (they only parse, call and print).
        .target(name: "Workflow", dependencies: [
            "Autodiff", "DataFiles", "Datasets", "DeviceModel", "Predictors", "ProfileStore", "Profiling", "Proxies", "Reports", "Benchmarks", "Evaluation", "Search", "NB201Space", "OFASpace", "SearchSpaces",
        ], swiftSettings: v5),
        .target(name: "ParserFuzzing", dependencies: [
            "DataFiles", "Datasets", "DeviceModel", "Predictors", "ProfileStore", "Profiling", "Benchmarks", "Evaluation", "Search", "NB201Space", "OFASpace", "SearchSpaces",
        ], swiftSettings: v5),
        .target(name: "CommandSupport", dependencies: [
            "Autodiff", "SearchSpaces", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        .executableTarget(name: "modnas", dependencies: [
            "CommandSupport", "Autodiff", "DataFiles", "Datasets", "DeviceModel", "ModelExport", "NB201Space", "OFASpace", "SearchSpaces", "Profiling", "ProfileStore", "Predictors", "Benchmarks", "Evaluation", "Search", "Reports", "Workflow",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),
        .executableTarget(name: "modnas-profile", dependencies: [
            "CommandSupport", "DeviceModel", "Measurements", "Profiling", "ProfileStore", "SearchSpaces", "Statistics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),
        .executableTarget(name: "modnas-predict", dependencies: [
            "CommandSupport", "Autodiff", "DeviceModel", "Predictors", "ProfileStore", "SearchSpaces", "DataFiles", "Profiling", "Workflow",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        // Scratch folders for the tests, removed when the test process exits.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "DataFilesTests", dependencies: ["TestSupport", "DataFiles"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["TestSupport", "Datasets", "Autodiff"], swiftSettings: v5),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff"], swiftSettings: v5),
        .testTarget(name: "GPTSpaceTests", dependencies: ["GPTSpace", "DataFiles", "Autodiff", "SearchSpaces"], swiftSettings: v5),
        .testTarget(name: "SearchSpacesTests", dependencies: ["NB201Space", "OFASpace", "SearchSpaces", "Autodiff", "Datasets"], swiftSettings: v5),
        .testTarget(name: "ProfileStoreTests", dependencies: ["TestSupport", "DeviceModel", "Measurements", "ProfileStore", "SearchSpaces", "Statistics"], swiftSettings: v5),
        .testTarget(name: "PredictorsTests", dependencies: ["TestSupport", "Predictors", "Autodiff", "DataFiles", "DeviceModel", "Measurements", "NB201Space", "OFASpace", "SearchSpaces", "ProfileStore"], swiftSettings: v5),
        .testTarget(name: "SearchTests", dependencies: ["TestSupport", "Benchmarks", "Evaluation", "Search", "Reports", "Workflow", "Autodiff", "DataFiles", "DeviceModel", "GPTSpace", "NB201Space", "OFASpace", "SearchSpaces", "Predictors", "ProfileStore", "Datasets", "Statistics"], swiftSettings: v5),
        .testTarget(name: "ProfilingTests", dependencies: [
            "TestSupport", "DeviceModel", "Measurements", "Predictors", "Profiling", "ProfileStore", "NB201Space", "OFASpace", "SearchSpaces", "Statistics", "CPerfEvent", .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: v5),
        .testTarget(name: "ProxiesTests", dependencies: ["Proxies", "Autodiff", "NB201Space", "OFASpace", "SearchSpaces", "Statistics"], swiftSettings: v5),
        .testTarget(name: "ModelExportTests", dependencies: ["TestSupport", "ModelExport", "Autodiff", "GPTSpace", "NB201Space", "OFASpace", "SearchSpaces"], swiftSettings: v5),
        .testTarget(name: "ParserFuzzingTests", dependencies: ["ParserFuzzing"], swiftSettings: v5),
        .testTarget(name: "CommandLineTests", dependencies: [
            "TestSupport", "CommandSupport", "Autodiff", "ProfileStore", "modnas", "modnas-profile", "modnas-predict",
        ], swiftSettings: v5),
    ]
)
