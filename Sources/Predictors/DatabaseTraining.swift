import DeviceModel
import Foundation
import ProfileStore
import SearchSpaces

/// Training data from a profile database.
public enum DatabaseSamples {
    /// A device's stored values of `metric` in `space` as samples (latency on the clock of its
    /// latest session), with its features when all of the space's references are stored. A
    /// device without energy is refused in one line with the reason.
    public static func device<S: SearchSpace>(_ name: String, database: ProfileDatabase, space: S,
                                              metric: DeviceMetric = .latency) throws -> DeviceSamples {
        let stored = try database.values(device: name, space: space.name.rawValue, metric: metric)
        if metric == .energy, stored.isEmpty {
            throw DeviceModelError.noEnergy(device: name, space: space.name.rawValue,
                                            reason: try database.energyAbsence(device: name, space: space.name.rawValue))
        }
        var archs: [S.Architecture] = [], values: [Double] = []
        for (string, v) in stored.sorted(by: { $0.key < $1.key }) {
            archs.append(try space.parse(string))
            values.append(v)
        }
        let features = try? database.features(device: name, space: space.name.rawValue, references: try space.referenceStrings())
        let measured = try database.device(named: name).source == .measured
        return DeviceSamples(device: name, features: features, space: space, architectures: archs, metric: metric, values: values,
                             latencyClock: measured ? try database.latencyClock(device: name, space: space.name.rawValue) : nil)
    }

    /// A seeded split into up to `count` training samples and the held-out rest; when the device
    /// has no more than `count`, a fifth is held out.
    public static func split(_ d: DeviceSamples, trainSize count: Int, seed: UInt64) -> (train: DeviceSamples, test: DeviceSamples) {
        let n = d.architectures.count
        let size = n > count ? count : max(n - max(n / 5, 1), 1)
        return d.split(count: size, seed: seed)
    }
}
