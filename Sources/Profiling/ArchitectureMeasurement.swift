import Autodiff
import Foundation
import Measurements
import SearchSpaces
import Statistics

/// How one architecture is timed.
public struct MeasurementSettings: Codable, Equatable, Sendable {
    public var repeats: Int
    public var warmup: Int
    public var batch: Int
    /// The network shape's parameters (the space's defaults where unset).
    public var shape: NetworkShape
    /// An architecture whose coefficient of variation exceeds this is measured once more, and
    /// flagged unstable if it still does.
    public var unstableCV: Double
    /// Energy windows shorter than this are extended with more passes (RAPL updates about every
    /// millisecond; 100 ms keeps the quantisation error near 1 %).
    public var minimumEnergyWindowMs: Double

    public init(repeats: Int = 20, warmup: Int = 3, batch: Int = 1, shape: NetworkShape = NetworkShape(),
                unstableCV: Double = 0.1, minimumEnergyWindowMs: Double = 100) {
        self.repeats = repeats
        self.warmup = warmup
        self.batch = batch
        self.shape = shape
        self.unstableCV = unstableCV
        self.minimumEnergyWindowMs = minimumEnergyWindowMs
    }
}

/// The result of timing one architecture.
public struct ArchitectureMeasurement: Sendable {
    /// Every timed repetition of the kept attempt, in milliseconds of wall time.
    public var repetitionsMs: [Double]
    /// The measuring thread's CPU time in each of those repetitions (ms).
    public var cpuRepetitionsMs: [Double]
    public var statistics: SampleStatistics
    public var attempts: Int
    public var unstable: Bool
    /// Counter readings over the counting window, and the passes that window held.
    public var counters: [String: CounterReading]
    public var countedPasses: Int
    public var energy: EnergyOutcome
    /// Steal and involuntary switches over the timed repetitions of the kept attempt.
    public var noise: HostNoise
}

/// What a latency benchmark times: a network in the engine, or a model in a runtime's worker.
public protocol TimedSubject {
    /// Untimed passes before timing.
    func warmUp(_ passes: Int) throws
    /// `repeats` timed passes: the wall and the timing thread's CPU time of each (ms).
    func timedPasses(_ repeats: Int) throws -> (wall: [Double], cpu: [Double])
    /// One untimed pass (energy windows are filled up with them).
    func pass() throws
}

/// A network of the engine on a fixed input, timed on the calling thread.
public struct EngineSubject: TimedSubject {
    public let network: InferenceNetwork
    public let input: Tensor

    public func warmUp(_ passes: Int) { for _ in 0..<passes { _ = network.infer(input) } }

    public func timedPasses(_ repeats: Int) -> (wall: [Double], cpu: [Double]) {
        Stopwatch.wallAndCPUMilliseconds(repeats: repeats) { _ = network.infer(input) }
    }

    public func pass() { _ = network.infer(input) }
}

/// Times networks built by the engine (or models in a runtime's worker), with counters and energy around the timed passes.
public final class LatencyBenchmark {
    public let settings: MeasurementSettings
    private let counters: CounterGroups?
    private let energyMeter: EnergyMeter?
    private let energyAbsentReason: String
    private let noise: HostNoiseProbe?

    public init(settings: MeasurementSettings, counters: CounterGroups?, energyMeter: EnergyMeter?, energyAbsentReason: String?,
                noise: HostNoiseProbe? = nil) {
        self.settings = settings
        self.noise = noise
        self.counters = counters
        self.energyMeter = energyMeter
        self.energyAbsentReason = energyAbsentReason ?? "no energy source"
    }

    /// Measures `network` in the engine: warm-up, timed passes, and one more attempt when unstable.
    public func measure(_ network: InferenceNetwork) throws -> ArchitectureMeasurement {
        var rng = SeededGenerator(seed: 0)
        let input = network.sampleInput(batch: settings.batch, using: &rng)
        return try measure(EngineSubject(network: network, input: input))
    }

    /// Measures `subject` (the engine's network, or a model in a runtime worker).
    public func measure(_ subject: TimedSubject) throws -> ArchitectureMeasurement {
        var result = try attempt(subject)
        // A single repetition has no CV: nothing to judge, so no second attempt.
        if let cv = result.statistics.coefficientOfVariation, cv > settings.unstableCV {
            result = try attempt(subject)
            result.attempts = 2
            result.unstable = (result.statistics.coefficientOfVariation ?? 0) > settings.unstableCV
        }
        return result
    }

    private func attempt(_ subject: TimedSubject) throws -> ArchitectureMeasurement {
        try subject.warmUp(settings.warmup)
        try counters?.start()
        let energyStart = try energyMeter?.sample()
        let windowStart = Stopwatch.now()
        let noiseStart = noise?.read()
        let (times, cpuTimes) = try subject.timedPasses(settings.repeats)
        let noiseWindow = noise.map { probe in probe.window(from: noiseStart!, to: probe.read()) } ?? .absent("not read in this measurement")
        var passes = settings.repeats
        if energyMeter != nil {
            while Double(Stopwatch.now() - windowStart) / 1e6 < settings.minimumEnergyWindowMs {
                try subject.pass()
                passes += 1
            }
        }
        let windowMs = Double(Stopwatch.now() - windowStart) / 1e6
        let energyEnd = try energyMeter?.sample()
        let readings = try counters?.stop() ?? [:]

        let energy: EnergyOutcome
        if let meter = energyMeter, let a = energyStart, let b = energyEnd {
            let joules = meter.joules(from: a, to: b)
            energy = joules > 0
                ? .measured(joulesPerInference: joules / Double(passes), source: meter.source, domains: meter.domains,
                            windowMs: windowMs, passes: passes)
                : .absent(reason: "\(meter.source) counter (\(meter.domains.joined(separator: "+"))) did not move over a \(Int(windowMs)) ms busy window")
        } else {
            energy = .absent(reason: energyAbsentReason)
        }
        return ArchitectureMeasurement(repetitionsMs: times, cpuRepetitionsMs: cpuTimes, statistics: SampleStatistics(times), attempts: 1,
                                       unstable: false, counters: readings, countedPasses: passes, energy: energy,
                                       noise: noiseWindow)
    }
}
