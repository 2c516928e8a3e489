import DeviceModel
import Foundation
import SearchSpaces

/// A cost the search minimises beside the accuracy objective, named as `--objectives` names it.
public enum CostObjective: String, CaseIterable, Codable, Sendable {
    /// Per device, from its latency predictor (ms).
    case latency
    /// Per device, from its energy predictor (J per inference); refused for devices without energy.
    case energy
    /// Device-free, from the space's cost counter: trainable scalars.
    case params
    /// Device-free, from the space's cost counter: floating-point operations (2 per multiply–accumulate).
    case flops

    /// The device metric a per-device cost is (its predictors'); nil for device-free costs.
    public var deviceMetric: DeviceMetric? {
        switch self {
        case .latency: return .latency
        case .energy: return .energy
        case .params, .flops: return nil
        }
    }

    /// Whether each device has its own values (from its predictors); device-free costs are the
    /// space's counts, the same on every device.
    public var isPerDevice: Bool { deviceMetric != nil }

    /// The objective's name in hypernetwork files and its fronts column's name.
    public var fileName: String { deviceMetric?.fileName ?? rawValue }

    /// The fronts file's value column (a per-device cost is its predictor's, never measured).
    public var frontsColumn: String { isPerDevice ? "predicted_" + fileName : fileName }

    /// The axis label of plots.
    public var label: String { deviceMetric?.label ?? (self == .params ? "parameters" : "FLOPs") }

    /// A value as the fronts file writes it: counts whole, predictions to six decimals (latency)
    /// or six significant digits (energy).
    func text(_ value: Double) -> String {
        switch self {
        case .latency: return String(format: "%.6f", value)
        case .energy: return String(format: "%.6g", value)
        case .params, .flops: return String(format: "%.0f", value)
        }
    }

    /// The count of a device-free cost.
    func count(_ cost: ArchitectureCost) -> Double {
        switch self {
        case .params: return Double(cost.parameters)
        case .flops: return Double(cost.floatingPointOperations)
        case .latency, .energy: preconditionFailure("\(self) is per device")
        }
    }
}

/// The search's objectives in the order of preference vectors: the accuracy objective's loss
/// first (test error %, or the space's other loss), then the costs (`--objectives
/// latency,params`; default latency).
public struct ObjectiveList: Equatable, Sendable, CustomStringConvertible {
    /// The accuracy objective's loss (the search's space's `accuracyLoss`).
    public var loss: AccuracyLoss
    public var costs: [CostObjective]

    /// Test error and latency: the default, and the only pair of searches before the list.
    public static let errorAndLatency = ObjectiveList(costs: [.latency])

    public init(costs: [CostObjective], loss: AccuracyLoss = .testError) { (self.costs, self.loss) = (costs, loss) }

    /// Parses `--objectives`: distinct known costs, comma-separated (the accuracy objective is
    /// implied; its loss is the space's, set by the search).
    public init(parsing text: String) throws {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let known = CostObjective.allCases.map(\.rawValue).joined(separator: ", ")
        var costs: [CostObjective] = []
        for name in names {
            guard let cost = CostObjective(rawValue: name) else {
                throw SearchError.badConfiguration("--objectives: unknown objective '\(name)'; give a comma-separated list of \(known) (the accuracy objective is always first)")
            }
            guard !costs.contains(cost) else { throw SearchError.badConfiguration("--objectives: '\(name)' is given twice") }
            costs.append(cost)
        }
        self.init(costs: costs)
    }

    /// The list a hypernetwork file names (`objectives`), checked.
    public init(names: [String]) throws {
        let losses = AccuracyLoss.allCases.map(\.rawValue)
        guard let first = names.first, let loss = AccuracyLoss(rawValue: first), names.count >= 2 else {
            throw SearchError.badFile(reason: "objectives \(names): the first must be a loss (\(losses.joined(separator: " or "))), followed by at least one cost")
        }
        let costs = try names.dropFirst().map { name in
            guard let cost = CostObjective.allCases.first(where: { $0.fileName == name }) else {
                throw SearchError.badFile(reason: "objectives \(names): unknown objective '\(name)'")
            }
            return cost
        }
        guard Set(costs).count == costs.count else { throw SearchError.badFile(reason: "objectives \(names): an objective is named twice") }
        self.init(costs: costs, loss: loss)
    }

    /// The same costs with the loss of `space`'s accuracy objective.
    public func withLoss<S: SearchSpace>(of space: S) -> ObjectiveList { ObjectiveList(costs: costs, loss: space.accuracyLoss) }

    /// M, the number of objectives (the preference vectors' length).
    public var count: Int { 1 + costs.count }
    /// The names hypernetwork files store.
    public var names: [String] { [loss.rawValue] + costs.map(\.fileName) }
    /// The costs that are not the device's predicted latency (a predicted energy, the counts):
    /// the fronts' extra value columns.
    public var extraCosts: [CostObjective] { costs.filter { $0 != .latency } }
    /// The device-free costs among these objectives.
    public var countedCosts: [CostObjective] { costs.filter { !$0.isPerDevice } }
    /// Whether a device must have energy for these objectives.
    public var needsEnergy: Bool { costs.contains(.energy) }

    /// Why a benchmark of latency only (NB201's, OFA's) cannot score fronts of these objectives; nil when it can.
    public func unscoredByLatencyOnlyBenchmark(space: String) -> String? {
        needsEnergy ? "the \(space) benchmark holds no energy, so fronts with an energy objective are not scored on it" : nil
    }

    /// The device-free costs among these objectives of `architecture`, as `space` counts them
    /// (empty, and nothing counted, without any).
    public func counts<S: SearchSpace>(_ architecture: S.Architecture, in space: S) -> [CostObjective: Double] {
        guard !countedCosts.isEmpty else { return [:] }
        let counted = space.cost(of: architecture)
        return Dictionary(uniqueKeysWithValues: countedCosts.map { ($0, $0.count(counted)) })
    }

    /// A point of these objectives: `error`, then each cost (latency from `latency`, the others
    /// from `extraCosts`: a predicted energy, the counts).
    public func point(error: Double, latency: Double, extraCosts: [CostObjective: Double]) -> ObjectivePoint {
        ObjectivePoint([error] + costs.map { $0 == .latency ? latency : extraCosts[$0]! })
    }
    public var description: String { ([loss.name] + costs.map(\.rawValue)).joined(separator: ", ") }
}
