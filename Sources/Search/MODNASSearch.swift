import Autodiff
import DeviceModel
import Foundation
import Predictors
import SearchSpaces

/// A device the search knows: its features (the hypernetwork's input), a latency objective and,
/// where it has energy, an energy objective.
public struct SearchDevice: Sendable {
    public var features: DeviceFeatures
    /// The hypernetwork's device input: centred log reference latencies and their mean.
    public var input: [Float] { deviceInput.values }
    /// The normalised features, shared with the meta predictor's objective.
    public let deviceInput: DeviceInput
    public var latency: DeviceObjective
    /// Which predictor gives its latency (a file name, or "meta (zero-shot)").
    public var latencySource: String
    /// Its energy objective, for searches with an energy objective (nil otherwise).
    public var energy: DeviceObjective?
    /// Which predictor gives its energy.
    public var energySource: String?
    /// Training devices take part in the search; the others only get fronts.
    public var isTraining: Bool

    public var name: String { features.device }

    /// A device whose latency `predictor` gives (and energy `energyPredictor`): the features are
    /// normalised once, for the hypernetwork and, when it is a meta predictor, for its objective.
    public init(features: DeviceFeatures, predictor: DevicePredictor, latencySource: String, isTraining: Bool,
                energyPredictor: (predictor: DevicePredictor, source: String)? = nil) throws {
        self.features = features
        deviceInput = try DeviceInput(features, space: predictor.file.space, length: features.referenceArchIndices.count)
        latency = try predictor.objective(device: features, input: deviceInput)
        self.latencySource = latencySource
        if let (file, source) = energyPredictor {
            guard file.file.predictedMetric == .energy, predictor.file.predictedMetric == .latency else {
                throw SearchError.badConfiguration("the predictors of '\(features.device)' are \(predictor.file.predictedMetric) and \(file.file.predictedMetric), expected latency and energy")
            }
            energy = try file.objective(device: features)
            energySource = source
        }
        self.isTraining = isTraining
    }

    /// The per-device costs of `objectives` the device has no predictor of (energy on a host
    /// without RAPL): it takes part in a search on its other objectives only.
    public func absentCosts(_ objectives: ObjectiveList) -> [CostObjective] {
        objectives.costs.filter { $0.deviceMetric == .energy && energy == nil }
    }

    /// Which of `objectives` (the loss first, then the costs) the device has.
    public func objectiveMask(_ objectives: ObjectiveList) -> [Bool] {
        let absent = absentCosts(objectives)
        return [true] + objectives.costs.map { !absent.contains($0) }
    }

    /// Preference vectors over `objectives` for this device: `count` of them over the objectives
    /// it has (`Fronts.preferences`), zero on the ones it lacks.
    public func preferences(count: Int, objectives: ObjectiveList) -> [[Double]] {
        let kept = objectiveMask(objectives)
        guard kept.contains(false) else { return Fronts.preferences(count: count, objectives: objectives.count) }
        return Fronts.preferences(count: count, objectives: kept.filter { $0 }.count).map { r in
            var values = r.makeIterator()
            return kept.map { $0 ? values.next()! : 0 }
        }
    }

    /// The device's objective of a per-device cost; a device without energy is refused by name and reason.
    public func objective(_ metric: DeviceMetric) throws -> DeviceObjective {
        switch metric {
        case .latency: return latency
        case .energy:
            guard let energy else {
                _ = try features.values(of: .energy)   // names the reason when the features have none
                throw SearchError.badConfiguration("device '\(name)' has no energy predictor; train one with modnas-predict train --metric energy")
            }
            return energy
        }
    }

    /// The extra costs of `objectives` (a predicted energy, the counts) for `architectures` of
    /// `space`; `counts`: their device-free counts when the caller has them already.
    public func extraCosts<S: SearchSpace>(_ architectures: [S.Architecture], in space: S, objectives: ObjectiveList,
                                           counts: [[CostObjective: Double]]? = nil) -> [[CostObjective: Double]] {
        let energies = objectives.needsEnergy ? energy.map { $0.predictions(architectures, in: space) } : nil
        let counted = counts ?? architectures.map { objectives.counts($0, in: space) }
        return architectures.indices.map { i in
            var costs = counted[i]
            if let energies { costs[.energy] = energies[i] }
            return costs
        }
    }
}

/// How the search combines the per-device gradients (stored by these names in files).
public enum GradientCombination: String, Codable, CaseIterable, Sendable {
    /// Multiple-gradient descent: the min-norm point of their convex hull (Frank–Wolfe).
    case minNorm = "min-norm"
    /// Their mean (an ablation).
    case mean
}

/// The engine's settings (MODNAS.md; defaults fitted to the surrogate mode on a small CPU).
/// In supernet mode a step is one batch: `stepsPerEpoch` is a pass over the weight images.
public struct SearchConfiguration: Codable, Equatable, Sendable {
    public var epochs = 20
    public var stepsPerEpoch = 100
    /// Adam learning rate; nil means the paper's 3e-4 × number of training devices (3.9e-3 for
    /// 13, which settles on fewer architectures here: mean benchmark HV 0.937 against 0.944).
    public var learningRate: Float? = 1e-3
    /// Cosine decay of the learning rate to 1 % over the run (false: constant).
    public var cosineSchedule = true
    public var beta1: Float = 0.5
    public var beta2: Float = 0.999
    public var weightDecay: Float = 0
    /// λ of the cosine term.
    public var cosineWeight: Float = 0.01
    /// How a preference vector weighs the objectives; nil: linear (MODNAS's; files of before the choice).
    public var scalarization: Scalarization?
    public var hidden = 64
    /// Weight of an entropy bonus on softmax(α) at the start, decaying linearly to 0 by the end:
    /// early exploration against collapsing onto the first good architectures (0: off).
    public var entropyWeight: Float = 0.01
    /// Preference vectors drawn per device and step; the device's gradient is their mean.
    public var preferencesPerStep = 8
    /// How per-device gradients combine: min-norm (MGD, the method) or mean (an ablation).
    public var combination = GradientCombination.minNorm
    public var preferences = 24
    public var seed: UInt64 = 0
    /// The accuracy-query budget K of the surrogate mode.
    public var accuracyQueries = 200
    public var surrogateEnsemble = 3
    public var dataset = "cifar10"
    public init() {}
}

/// Per-epoch record of a search.
public struct EpochLog: Codable, Equatable, Sendable {
    public var epoch: Int
    /// Mean scalarised loss over the epoch's device steps (nil in a supernet warm-up epoch).
    public var meanLoss: Double?
    /// Mean over training devices of the HV of the current fronts under the search's own
    /// objectives (the error the hypernetwork reads, predicted latency), normalised as the search
    /// normalises them; nil where the error is normalised per epoch (the supernet's cross-entropy,
    /// and its warm-up).
    public var predictedHypervolume: Double?
    /// Mean cross-entropy of the supernet's weight steps (supernet mode).
    public var supernetLoss: Double?
    /// Mean HV against the benchmark tables, where the caller has them (labelled "benchmark").
    public var benchmarkHypervolume: Double?
    public var seconds: Double
}

/// The MODNAS search over `Space`: a hypernetwork H(r, d) trained by multiple-gradient descent
/// across the training devices, with ReinMax samples (one choice per decision) scored by an
/// accuracy objective (a surrogate, the benchmark's predictor, or a supernet trained alongside),
/// each device's latency (and energy) predictor and the space's counts, all on the sample's space encoding.
public final class MODNASSearch<Space: SearchSpace> {
    public let space: Space
    public let layout: DecisionLayout
    public let devices: [SearchDevice]
    public let accuracy: any AccuracyObjective<Space.Architecture>
    public let configuration: SearchConfiguration
    /// The objectives, the accuracy objective's error first (the preference vectors' order).
    public let objectives: ObjectiveList
    public let hypernetwork: Hypernetwork
    /// The device-free costs as the search differentiates them, by objective.
    public let countedCosts: [CostObjective: CountedCost]
    /// Normalisation ranges of the costs per device (predicted latency; counted device-free costs), in the objectives' order.
    private(set) var costRanges: [String: [ClosedRange<Double>]] = [:]
    /// Training state, kept between calls of `run` (a search may run in parts) and in checkpoints.
    var adam: Adam
    var rng: SeededGenerator
    var step = 0
    var elapsed = 0.0
    public internal(set) var log: [EpochLog] = []

    public init(space: Space, devices: [SearchDevice], accuracy: any AccuracyObjective<Space.Architecture>,
                configuration: SearchConfiguration, objectives: ObjectiveList = .errorAndLatency) throws {
        guard devices.contains(where: \.isTraining) else { throw SearchError.badConfiguration("the search needs at least one training device") }
        // A device without energy takes part on its other objectives; some training device must have them all.
        if let first = devices.first(where: \.isTraining), !devices.contains(where: { $0.isTraining && $0.absentCosts(objectives).isEmpty }) {
            _ = try first.objective(.energy)   // names the device and the reason
        }
        for d in devices {
            let absent = d.absentCosts(objectives)
            for metric in objectives.costs.filter({ !absent.contains($0) }).compactMap(\.deviceMetric) where try d.objective(metric).encoding.space != space.name {
                throw SearchError.badConfiguration("the \(metric) predictor of '\(d.name)' is of space \(try d.objective(metric).encoding.space), the search of \(space.name)")
            }
        }
        self.space = space
        layout = DecisionLayout(of: space)
        self.devices = devices
        self.accuracy = accuracy
        self.configuration = configuration
        self.objectives = objectives
        rng = SeededGenerator(seed: configuration.seed &+ 101)
        hypernetwork = Hypernetwork(objectives: objectives.count, deviceInputs: devices[0].input.count, outputs: layout.width,
                                    hidden: configuration.hidden, seed: configuration.seed)
        adam = Adam(parameters: hypernetwork.parameters, learningRate: configuration.learningRate ?? 3e-4 * Float(devices.filter(\.isTraining).count),
                    beta1: configuration.beta1, beta2: configuration.beta2, weightDecay: configuration.weightDecay)
        let all = NormalizationSet.architectures(of: space)
        let kept = try accuracy.normalizationSet(all).map { all[$0] }
        guard !kept.isEmpty else { throw SearchError.badConfiguration("no architecture is left to normalise the objectives over") }
        countedCosts = Dictionary(uniqueKeysWithValues: objectives.countedCosts.map { ($0, CountedCost($0, space: space, architectures: all)) })
        let counts = kept.map { objectives.counts($0, in: space) }   // once, not per device
        for d in devices {
            let values = costValues(kept, device: d, counts: counts)
            costRanges[d.name] = objectives.costs.indices.map { m in
                let column = values.map { $0[m] }
                return column.min()!...column.max()!
            }
        }
    }

    /// The cost objectives' values of `architectures` on `device`: predicted latency (and
    /// energy), counted device-free costs; a cost the device lacks is 0 throughout (its
    /// preference is 0, so it weighs nothing and adds nothing to an HV).
    func costValues(_ architectures: [Space.Architecture], device: SearchDevice, counts: [[CostObjective: Double]]? = nil) -> [[Double]] {
        let ms = device.latency.predictions(architectures, in: space)
        let extra = device.extraCosts(architectures, in: space, objectives: objectives, counts: counts)
        let absent = device.absentCosts(objectives)
        return architectures.indices.map { i in
            var costs = extra[i]
            for cost in absent { costs[cost] = 0 }
            return Array(objectives.point(error: 0, latency: ms[i], extraCosts: costs).values.dropFirst())
        }
    }

    /// The surrogate, in surrogate mode.
    public var surrogate: AccuracySurrogate? { (accuracy as? SurrogateAccuracy<Space>)?.surrogate }

    public var trainingDevices: [SearchDevice] { devices.filter(\.isTraining) }

    /// A front generator with this search's accuracy estimates.
    public var generator: FrontGenerator<Space> {
        let accuracy = self.accuracy
        return FrontGenerator(space: space, hypernetwork: hypernetwork, objectives: objectives) { accuracy.errors($0) }
    }


    /// Runs `epochs` more epochs (default: up to `configuration.epochs`); `onEpoch` gets each
    /// epoch's log (its benchmark HV may be filled in by the caller) and the estimated seconds left.
    /// The learning-rate and entropy schedules span all `configuration.epochs`.
    @discardableResult
    public func run(epochs: Int? = nil, onEpoch: (inout EpochLog, _ secondsLeft: Double) -> Void = { _, _ in }) -> [EpochLog] {
        let training = trainingDevices
        let parameters = hypernetwork.parameters
        let baseRate = configuration.learningRate ?? 3e-4 * Float(training.count)
        let warmup = accuracy.warmupEpochs
        let totalSteps = max(configuration.epochs - warmup, 1) * configuration.stepsPerEpoch   // hypernetwork steps
        let first = log.count + 1, last = min(configuration.epochs, log.count + (epochs ?? configuration.epochs))
        guard first <= last else { return log }
        let start = Date().addingTimeInterval(-elapsed)
        for epoch in first...last {
            var lossSum = 0.0
            for stepInEpoch in 0..<configuration.stepsPerEpoch {
                accuracy.prepareStep(epoch: epoch, stepInEpoch: stepInEpoch, of: configuration.stepsPerEpoch, epochs: configuration.epochs)
                guard epoch > warmup else { continue }
                var gradients: [[Double]] = []
                // One set of preference vectors per step, shared by the devices: their gradients then
                // differ by the devices, not by the draw, and the min-norm combination keeps what
                // helps every device at these preferences.
                let preferences = (0..<max(configuration.preferencesPerStep, 1)).map { _ in uniformPreference() }
                let entropy = configuration.entropyWeight * Float(1 - Double(step) / Double(totalSteps))
                for (t, device) in training.enumerated() {
                    let (loss, g) = deviceGradient(device, position: t, preferences: preferences, entropyWeight: entropy, using: &rng)
                    lossSum += loss
                    gradients.append(g)
                }
                let gamma = configuration.combination == .mean
                    ? [Double](repeating: 1 / Double(gradients.count), count: gradients.count)
                    : MinNormSolver.solve(MinNormSolver.normalized(gradients)).weights
                let norms = gradients.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
                var offset = 0
                for p in parameters {
                    var combined = [Float](repeating: 0, count: p.value.count)
                    for (t, g) in gradients.enumerated() where norms[t] > 0 {
                        let w = gamma[t] / norms[t]
                        for k in combined.indices { combined[k] += Float(w * g[offset + k]) }
                    }
                    p.grad = Tensor(shape: p.value.shape, scalars: combined)
                    offset += combined.count
                }
                if configuration.cosineSchedule {
                    adam.learningRate = baseRate * (0.01 + 0.99 * cosineFactor(step: step, of: totalSteps))
                }
                adam.step()
                step += 1
            }
            elapsed = Date().timeIntervalSince(start)
            var entry = EpochLog(epoch: epoch, meanLoss: epoch > warmup ? lossSum / Double(configuration.stepsPerEpoch * training.count) : nil,
                                 predictedHypervolume: predictedHypervolume(of: training), supernetLoss: accuracy.epochTrainingLoss,
                                 benchmarkHypervolume: nil, seconds: elapsed)
            onEpoch(&entry, elapsed / Double(epoch) * Double(configuration.epochs - epoch))
            log.append(entry)
        }
        return log
    }

    /// A draw from Dirichlet(1, …, 1) over the M objectives: r = (u, 1 − u) with u uniform for
    /// two; normalised exponential draws for more.
    private func uniformPreference() -> [Float] {
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        guard objectives.count > 2 else {
            let u = Float(uniform())
            return [u, 1 - u]
        }
        let e = (0..<objectives.count).map { _ in -Foundation.log(1 - uniform()) }
        let total = e.reduce(0, +)
        return e.map { Float($0 / total) }
    }

    /// One device's mean scalarised loss over `preferences` (each with a ReinMax sample), and the
    /// gradient of the hypernetwork's parameters (flattened).
    func deviceGradient(_ device: SearchDevice, position: Int = 0, preferences: [[Float]], entropyWeight: Float = 0,
                        using rng: inout SeededGenerator) -> (Double, [Double]) {
        let parameters = hypernetwork.parameters
        zeroGradients(parameters)
        let d = Variable(Tensor(shape: [device.input.count], scalars: device.input))
        var total = 0.0
        let count = preferences.count
        let kept = device.objectiveMask(objectives)
        for drawn in preferences {
            // Zero on the costs the device lacks, the rest renormalised.
            let r = kept.contains(false) ? Self.restricted(drawn, keeping: kept) : drawn
            let alpha = hypernetwork(preference: Variable(Tensor(shape: [r.count], scalars: r)), device: d)
            let decisions = layout.matrices(alpha)
            let sample = layout.reinMaxSample(decisions, using: &rng)
            var loss = scalarizedLoss(objectives(sample, device: device, position: position), preference: r, cosineWeight: configuration.cosineWeight,
                                      scalarization: configuration.scalarization ?? .linear)
            if entropyWeight > 0 {   // + β Σ p log p (minimising it raises the entropy)
                loss = loss + scale(layout.negativeEntropy(decisions), by: entropyWeight)
            }
            loss.backward(seed: Tensor(scalar: 1 / Float(count)))   // gradients accumulate: their mean
            total += Double(loss.value.scalars[0]) / Double(count)
        }
        return (total, parameters.flatMap { ($0.grad?.scalars ?? [Float](repeating: 0, count: $0.value.count)).map(Double.init) })
    }

    /// `r` with the entries not `kept` set to 0 and the others scaled to sum to 1.
    static func restricted(_ r: [Float], keeping kept: [Bool]) -> [Float] {
        let total = zip(r, kept).reduce(Float(0)) { $0 + ($1.1 ? $1.0 : 0) }
        return zip(r, kept).map { $1 ? $0 / max(total, 1e-12) : 0 }
    }

    /// The normalised objectives [error, costs…] of a (one-hot) sample [Σ choices], all on its
    /// space encoding, differentiable in the sample. `position`: the device's place among the
    /// training devices.
    func objectives(_ sample: Variable, device: SearchDevice, position: Int = 0) -> Variable {
        let encoding = space.relaxedEncoding(sample)
        let error = accuracy.normalizedError(encoding, device: position)
        let ranges = costRanges[device.name]!
        // Each cost's normalised value, its gradient with respect to the encoding and its span.
        let absent = device.absentCosts(objectives)
        let costs = zip(objectives.costs, ranges).map { cost, range -> (value: Float, gradient: [Float], span: Float) in
            if absent.contains(cost) { return (0, [Float](repeating: 0, count: encoding.value.count), 1) }
            let (value, gradient) = cost.deviceMetric.map { (try! device.objective($0)).evaluate(encoding.value.scalars) }
                ?? countedCosts[cost]!.evaluate(encoding.value.scalars)
            let span = Float(max(range.upperBound - range.lowerBound, 1e-9))
            return (Float(value - range.lowerBound) / span, gradient, span)
        }
        let value = Tensor(shape: [objectives.count], scalars: [error.value.scalars[0]] + costs.map(\.value))
        return Variable.result(value, parents: [error, encoding]) { g in
            var pulled = [Float](repeating: 0, count: encoding.value.count)
            for (m, cost) in costs.enumerated() {
                for k in pulled.indices { pulled[k] += g.scalars[m + 1] * cost.gradient[k] / cost.span }
            }
            return [Tensor(shape: error.shape, scalars: [g.scalars[0]]), Tensor(shape: encoding.shape, scalars: pulled)]
        }
    }

    /// What an exact optimiser of the search's own objectives would return for `device`: per
    /// preference vector, the architecture of the whole space with the lowest scalarised
    /// (objective error, predicted latency). A yardstick for the hypernetwork, by enumeration:
    /// where it scores no better than the fronts, the objective, not the hypernetwork, limits them.
    /// Needs an error range over the whole space (a surrogate, also the supernet's fitted one) and
    /// a space that can be listed (NB201). The rows' estimates are the fronts' (`errors`).
    public func exhaustiveFront(for device: SearchDevice, preferences count: Int) throws -> [FrontRow]? {
        guard let er = accuracy.errorRange, let all = space.enumeration() else { return nil }
        let tableIndex = try space.tableIndexer()
        let errors = accuracy.objectiveErrors(all), costs = costValues(all, device: device)
        let bounds = ObjectiveBounds([er] + costRanges[device.name]!)
        let normalized = all.indices.map { bounds.normalized(ObjectivePoint([errors[$0]] + costs[$0])).values }
        let best = Fronts.preferences(count: count, objectives: objectives.count).map { r in
            func score(_ i: Int) -> Double { (configuration.scalarization ?? .linear).score(normalized[i], preference: r) }
            return (preference: r, index: all.indices.min { score($0) < score($1) }!)
        }
        let chosen = best.map { all[$0.index] }
        let estimates = accuracy.errors(chosen), ms = device.latency.predictions(chosen, in: space)
        let extra = device.extraCosts(chosen, in: space, objectives: objectives)
        return chosen.enumerated().map { k, a in
            FrontRow(device: device.name, preferenceIndex: k, preference: best[k].preference, archIndex: tableIndex(a),
                     architecture: space.string(of: a), tableValues: space.tableValues(of: a),
                     predictedLatencyMs: ms[k], extraCosts: extra[k], estimatedLoss: estimates[k])
        }
    }

    /// Mean HV of the current fronts of `devices` under the search's own normalised objectives
    /// (the objective's errors, not the fronts' estimates where the two differ: supernet mode).
    func predictedHypervolume(of devices: [SearchDevice]) -> Double? {
        guard let errorRange = accuracy.errorRange else { return nil }
        let generator = self.generator
        let hvs = devices.map { d -> Double in
            let archs = d.preferences(count: configuration.preferences, objectives: objectives).map { generator.architecture(preference: $0, deviceInput: d.input) }
            let errors = accuracy.objectiveErrors(archs), costs = costValues(archs, device: d)
            let bounds = ObjectiveBounds([errorRange] + costRanges[d.name]!)
            return ParetoMetrics.hypervolume(archs.indices.map { bounds.normalized(ObjectivePoint([errors[$0]] + costs[$0])) })
        }
        return hvs.reduce(0, +) / Double(hvs.count)
    }
}

/// Fronts from a hypernetwork: for each preference vector, the most probable choice of every
/// decision of α = H(r / Σr, d).
public struct FrontGenerator<Space: SearchSpace> {
    public let space: Space
    let layout: DecisionLayout
    public let hypernetwork: Hypernetwork
    public let objectives: ObjectiveList
    /// Estimated test error (%) per architecture; nil where no estimate exists.
    public let errors: ([Space.Architecture]) -> [Double?]

    public init(space: Space, hypernetwork: Hypernetwork, objectives: ObjectiveList = .errorAndLatency,
                errors: @escaping ([Space.Architecture]) -> [Double?]) {
        precondition(hypernetwork.objectives == objectives.count, "a hypernetwork of \(hypernetwork.objectives) objectives for \(objectives.count)")
        self.space = space
        layout = DecisionLayout(of: space)
        self.hypernetwork = hypernetwork
        self.objectives = objectives
        self.errors = errors
    }

    public init(space: Space, hypernetwork: Hypernetwork, objectives: ObjectiveList = .errorAndLatency, surrogate: AccuracySurrogate) {
        self.init(space: space, hypernetwork: hypernetwork, objectives: objectives) { surrogate.errors($0, in: space) }
    }


    /// The architecture H chooses for preference `r` (any positive scale) and device input `d`.
    public func architecture(preference r: [Double], deviceInput d: [Float]) -> Space.Architecture {
        let total = r.reduce(0, +)
        let alpha = withoutTape {
            hypernetwork(preference: Variable(Tensor(shape: [r.count], scalars: r.map { Float($0 / total) })),
                         device: Variable(Tensor(shape: [d.count], scalars: d))).value
        }
        return space.architecture(choices: layout.argmax(alpha.scalars))
    }

    /// One device's front: a row per preference vector; `tableIndex` gives `arch_index`.
    public func front(for device: SearchDevice, preferences count: Int, tableIndex: ((Space.Architecture) -> Int?)?) -> [FrontRow] {
        let preferences = device.preferences(count: count, objectives: objectives)
        let archs = preferences.map { architecture(preference: $0, deviceInput: device.input) }
        let ms = device.latency.predictions(archs, in: space)
        let extra = device.extraCosts(archs, in: space, objectives: objectives)
        let errors = self.errors(archs)
        return archs.indices.map { k in
            FrontRow(device: device.name, preferenceIndex: k, preference: preferences[k], archIndex: tableIndex?(archs[k]),
                     architecture: space.string(of: archs[k]), tableValues: space.tableValues(of: archs[k]),
                     predictedLatencyMs: ms[k], extraCosts: extra[k], estimatedLoss: errors[k])
        }
    }
}
