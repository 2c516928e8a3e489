import Autodiff
import SpaceCore
import DataFiles

/// NAS-Bench-201 behind the `SearchSpace` seam: 6 edge decisions of 5 operations each.
public struct NB201SearchSpace: SearchSpace {
    public typealias Architecture = NB201Architecture
    public let shape: NB201NetworkShape

    public init(shape: NB201NetworkShape = .benchmark) { self.shape = shape }

    public var title: String { "NAS-Bench-201 cell (CIFAR layout)" }
    public var tableSize: Int { NB201Architecture.spaceSize }
    public func reshaped(_ setting: NetworkShape) throws -> NB201SearchSpace { NB201SearchSpace(shape: try NB201NetworkShape(setting)) }

    public var name: SpaceName { .nb201 }
    /// Its benchmark's loss: test error (%).
    public var accuracyLoss: AccuracyLoss { .testError }
    public var shippedBenchmark: (deviceTable: String, featureTable: String) {
        ("Devices/nb201/latency_ms_train_devices.csv.gz", "Devices/nb201/device_features_ms.csv")
    }
    public var formatHelp: String { NB201Architecture.formatHelp }

    public var decisions: [Decision] {
        NB201Architecture.edges.map { edge in
            Decision(name: "edge \(edge.source)→\(edge.target)", choices: NB201Operation.allCases.map(\.name))
        }
    }

    public func parse(_ text: String) throws -> NB201Architecture { try NB201Architecture(parsing: text) }
    public func string(of architecture: NB201Architecture) -> String { architecture.string }
    public func choices(of architecture: NB201Architecture) -> [Int] { architecture.operations.map(\.rawValue) }
    public func architecture(choices: [Int]) -> NB201Architecture {
        NB201Architecture(operations: choices.map { NB201Operation(rawValue: $0)! })
    }

    public var encodingWidth: Int { NB201Architecture.edgeCount * NB201Architecture.operationCount }
    public var predictorEncoding: ArchitectureEncoding { .nb201 }
    public func oneHotEncoding(of architecture: NB201Architecture) -> [Float] { architecture.oneHotEncoding }
    /// The relaxed encoding is the edge-major probabilities themselves.
    public func relaxedEncoding(_ probabilities: Variable) -> Variable { reshape(probabilities, to: [encodingWidth]) }

    public func sample(count: Int, seed: UInt64) -> [NB201Architecture] { NB201Sampler.distinct(count: count, seed: seed) }

    /// The references shipped in `Devices/nb201/reference_archs.csv`.
    public func referenceArchitectures() throws -> [ReferenceArchitecture<NB201Architecture>] {
        let table = try CSVTable(contentsOf: ShippedData.path("Devices/nb201/reference_archs.csv"))
        let positions = try table.column("position"), indices = try table.column("arch_index")
        return try zip(zip(positions, indices), try table.column("arch_string")).enumerated().map { row, item in
            let ((position, index), string) = item
            guard let p = Int(position), let i = Int(index), NB201Architecture.areDistinctIndices([i]) else {
                throw DataFileError.badValue(path: table.path, line: row + 2, column: "arch_index", value: index,
                                             expected: "a position and an NB201 index 0…15624")
            }
            return ReferenceArchitecture(position: p, index: i, architecture: try NB201Architecture(parsing: string))
        }
    }

    public func tableIndexer() throws -> (NB201Architecture) -> Int? {
        let index = try NB201Index.shipped()
        return { index.index(of: $0) }
    }

    public func cost(of architecture: NB201Architecture) -> ArchitectureCost { ArchitectureCost(architecture, shape: shape) }
    public func makeNetwork(_ architecture: NB201Architecture, seed: UInt64) -> DeployableNetwork {
        NB201Network(architecture, shape: shape, seed: seed)
    }
    /// The network at this space's C and N for square `input` [channels, side, side].
    public func makeTrainableNetwork(_ architecture: NB201Architecture, input: [Int], classes: Int, seed: UInt64) -> TrainableNetwork? {
        precondition(input.count == 3 && input[1] == input[2], "NB201 networks take square images, got \(input)")
        return NB201Network(architecture, shape: NB201NetworkShape(channels: shape.channels, cellsPerStage: shape.cellsPerStage, resolution: input[1],
                                                                   inputChannels: input[0], classes: classes), seed: seed)
    }
    public func enumeration() -> [NB201Architecture]? { (0..<NB201Architecture.spaceSize).map(NB201Architecture.init(code:)) }

    public var shapeDescription: [String] {
        ["channels=\(shape.channels)", "cells=\(shape.cellsPerStage)", "resolution=\(shape.resolution)",
         "inputChannels=\(shape.inputChannels)", "classes=\(shape.classes)"]
    }
    public var networkShape: NetworkShape {
        NetworkShape(["channels": "\(shape.channels)", "cells": "\(shape.cellsPerStage)", "resolution": "\(shape.resolution)"])
    }
}

extension NB201NetworkShape {
    /// The shape's settable parameters: `channels`, `cells` (per stage), `resolution`.
    public static let parameterNames = ["channels", "cells", "resolution"]

    /// The CIFAR-layout shape `setting` names (the benchmark's for unset parameters).
    public init(_ setting: NetworkShape) throws {
        try setting.check(known: Self.parameterNames, space: .nb201)
        let b = NB201NetworkShape.benchmark
        self.init(channels: try setting.integer("channels", default: b.channels, in: 1...4096),
                  cellsPerStage: try setting.integer("cells", default: b.cellsPerStage, in: 0...64),
                  resolution: try setting.integer("resolution", default: b.resolution, in: 4...4096))
    }
}

extension NB201Network: InferenceNetwork {
    public func inputShape(batch: Int) -> [Int] { [batch, shape.inputChannels, shape.resolution, shape.resolution] }
}
