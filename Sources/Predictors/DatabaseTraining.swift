import Foundation
import ProfileStore
import SearchSpaces

/// Training data from a profile database.
public enum DatabaseSamples {
    /// A device's stored latencies as samples, with its features when all references are stored.
    public static func device(_ name: String, database: ProfileDatabase, index: NB201Index,
                              references: [(index: Int, string: String)]) throws -> DeviceSamples {
        let latencies = try database.latencies(device: name, space: "nb201")
        var archs: [NB201Architecture] = [], ms: [Double] = []
        for (string, v) in latencies.sorted(by: { $0.key < $1.key }) {
            let arch = try NB201Architecture(parsing: string)
            archs.append(arch)
            ms.append(v)
        }
        let features = try? database.features(device: name, space: "nb201", references: references)
        return DeviceSamples(device: name, features: features, architectures: archs, milliseconds: ms)
    }

    /// A seeded split into up to `count` training samples and the held-out rest; when the device
    /// has no more than `count`, a fifth is held out.
    public static func split(_ d: DeviceSamples, trainSize count: Int, seed: UInt64) -> (train: DeviceSamples, test: DeviceSamples) {
        let n = d.architectures.count
        let size = n > count ? count : max(n - max(n / 5, 1), 1)
        return d.split(count: size, seed: seed)
    }
}
