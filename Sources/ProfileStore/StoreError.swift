/// A profile database that cannot be used, with what to do about it.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case newerSchema(path: String, unknownMigrations: [String])
    case notAProfileDatabase(path: String)
    case schemaMismatch(path: String)
    case unknownDevice(name: String, known: [String])
    case incompleteReferences(device: String, missing: Int)
    case conflictingDevice(name: String, existing: String, incoming: String)
    case mergeIntoItself(path: String)
    case notSQLite(path: String)
    case missingDatabase(path: String)
    case emptyDatabase(path: String)
    case otherSetting(device: String, space: String, stored: String, requested: String)

    public var description: String {
        switch self {
        case .missingDatabase(let path):
            return "\(path): no such file; give the --db of an existing profile database (collect or import create one)"
        case .notSQLite(let path):
            return "\(path) is not an SQLite database (another kind of file, or damaged); choose another --db path"
        case .emptyDatabase(let path):
            return "\(path) is an empty file, not a profile database; collect or import into it first, or choose another --db path"
        case .mergeIntoItself(let path):
            return "\(path) is the database merged into (the same file); merge other databases into it"
        case .cannotOpen(let path, let reason):
            return "cannot open database \(path): \(reason); check that its folder exists and is writable"
        case .newerSchema(let path, let unknown):
            return "\(path) was written by a newer modnas (schema \(unknown.joined(separator: ", "))); upgrade modnas to use it"
        case .notAProfileDatabase(let path):
            return "\(path) is an SQLite database but not a modnas profile database; choose another --db path"
        case .schemaMismatch(let path):
            return "\(path) has an older schema and cannot be upgraded where it is; copy it to writable storage and open it once with this modnas (e.g. modnas-profile devices --db COPY) to upgrade it"
        case .unknownDevice(let name, let known):
            return "no device '\(name)' in the database (devices: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        case .incompleteReferences(let device, let missing):
            return "device '\(device)' lacks \(missing) of the 10 reference architectures; run modnas-profile collect --host --device \(device) to measure them"
        case .otherSetting(let device, let space, let stored, let requested):
            return "device '\(device)' was measured in space \(space) at \(stored), not \(requested); the setting is part of a device, so measure this one under another --device name"
        case .conflictingDevice(let name, let existing, let incoming):
            return "device '\(name)' is \(existing) in the target but \(incoming) in the input; rename one with --device before merging"
        }
    }
}
