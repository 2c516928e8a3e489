import Foundation
import Testing

/// The walls between the stages and the spaces: the stages reach a space only through the
/// `SearchSpace` seam and the registry, so a new space is one module plus one registry line.
@Suite struct ModuleWallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Stages that must not import a space module (they use `SpaceName.space` and the protocol).
    static let walledModules = ["Search", "Evaluation", "DeviceModel", "Measurements", "ProfileStore", "Profiling", "Predictors", "Proxies", "Reports", "ModelExport", "CommandSupport"]

    /// The modules a Swift file imports, whatever the attribute (`@testable`, `@_exported`, `public`).
    static func imports(of file: URL) throws -> Set<String> {
        let text = try String(contentsOf: file, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"^[ \t]*(?:@\w+[ \t]+)*(?:(?:public|internal|package)[ \t]+)?import[ \t]+(?:(?:struct|class|enum|protocol|func|var|let|typealias)[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)"#, options: .anchorsMatchLines)
        return Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        })
    }

    /// Every module imported by the Swift files of `Sources/<module>`.
    static func imports(ofModule module: String) throws -> Set<String> {
        let folder = root.appendingPathComponent("Sources").appendingPathComponent(module)
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty, "no Swift files in \(folder.path)")
        return try files.reduce(into: Set<String>()) { $0.formUnion(try imports(of: folder.appendingPathComponent($1))) }
    }

    /// The target's dependency list in Package.swift, as written.
    static func declaredDependencies(of target: String) throws -> String {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        guard let start = manifest.range(of: ".target(name: \"\(target)\", dependencies: [") else { return "" }
        let rest = manifest[start.upperBound...]
        return String(rest[..<(rest.range(of: "]")?.lowerBound ?? rest.endIndex)])
    }

    /// The space modules: what the registry imports besides the seam.
    static func spaceModules() throws -> Set<String> {
        try imports(ofModule: "SearchSpaces").subtracting(["SpaceCore", "Foundation"])
    }

    @Test func registryImportsEverySpace() throws {
        let spaces = try Self.spaceModules()
        #expect(spaces == ["GPTSpace", "NB201Space", "OFASpace"], "\(spaces)")
    }

    @Test func stagesImportNoSpaceModule() throws {
        let spaces = try Self.spaceModules()
        for module in Self.walledModules {
            let leaked = try Self.imports(ofModule: module).intersection(spaces)
            #expect(leaked.isEmpty, "Sources/\(module) imports \(leaked.sorted()); reach the space through SearchSpace and SpaceName.space")
            let declared = try Self.declaredDependencies(of: module)
            #expect(!declared.isEmpty, "no target \(module) in Package.swift")
            for space in spaces { #expect(!declared.contains("\"\(space)\""), "target \(module) depends on \(space) in Package.swift") }
        }
    }

    @Test func spacesImportNoOtherSpaceNorTheRegistry() throws {
        let spaces = try Self.spaceModules()
        for space in spaces {
            let imported = try Self.imports(ofModule: space)
            #expect(imported.intersection(spaces.union(["SearchSpaces"])).isEmpty, "\(space) imports \(imported.sorted())")
        }
    }

    @Test func importsAreFoundWhateverTheAttribute() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wall-\(getpid()).swift")
        defer { try? FileManager.default.removeItem(at: file) }
        try "@testable import A\n@_exported import B\npublic import C\nimport struct D.E\n// import F\n  import G\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try Self.imports(of: file) == ["A", "B", "C", "D", "G"])
    }
}
