import SearchSpaces
import NB201Space
import Evaluation
import Search

/// Signs that an NB201 search collapsed (the supernet mode's known failure, docs/supernet.md):
/// fronts made of cells without convolutions, or one front shared by every training device.
public struct CollapseCheck: Equatable, Sendable {
    /// Of the training devices' front architectures (distinct per device), the share without a convolution.
    public var parameterFreeShare: Double
    /// The fewest distinct connected architectures with a convolution in a training device's front.
    public var fewestWithConvolutions: Int
    /// Whether every training device's front holds the same architectures (with two or more devices).
    public var identicalFronts: Bool

    /// A front needs this many distinct connected architectures with convolutions.
    public static let minimumWithConvolutions = 4

    public init(rows: [FrontRow], trainingDevices: [String]) {
        let fronts = trainingDevices.map { d in Set(rows.filter { $0.device == d }.compactMap { try? NB201Architecture(parsing: $0.architecture) }) }
        func hasConvolution(_ a: NB201Architecture) -> Bool { a.convolutionCount > 0 }
        let all = fronts.flatMap { $0 }
        parameterFreeShare = all.isEmpty ? 0 : Double(all.filter { !hasConvolution($0) }.count) / Double(all.count)
        fewestWithConvolutions = fronts.map { $0.filter { hasConvolution($0) && PathEncoding.isConnected($0) }.count }.min() ?? 0
        identicalFronts = fronts.count > 1 && fronts.allSatisfy { $0 == fronts[0] }
    }

    /// The alarm in one line, or nil when the fronts look sound.
    public var alarm: String? {
        var reasons: [String] = []
        if fewestWithConvolutions < Self.minimumWithConvolutions {
            reasons.append("a training device's front holds only \(fewestWithConvolutions) distinct connected architectures with convolutions (fewer than \(Self.minimumWithConvolutions))")
        }
        if identicalFronts { reasons.append("every training device has the same front") }
        guard !reasons.isEmpty else { return nil }
        return String(format: "collapse alarm: %@; %.0f %% of the fronts' architectures have no convolution", reasons.joined(separator: ", and "), 100 * parameterFreeShare)
    }

    /// The check's figures in words (printed whether or not the alarm fires).
    public var summary: String {
        String(format: "fronts: %.0f %% of the architectures without a convolution, at least %d connected ones with convolutions per training device%@",
               100 * parameterFreeShare, fewestWithConvolutions, identicalFronts ? ", the same front for every training device" : "")
    }
}
