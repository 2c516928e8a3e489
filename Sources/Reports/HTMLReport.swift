import DeviceModel
import Foundation
import Predictors
import Evaluation
import Search
import SearchSpaces

/// What a report says about the run that produced it: labelled settings and the epoch log.
public struct RunSettings {
    public var items: [(String, String)]
    public var log: [EpochLog]
    public var title: String

    public init(title: String, items: [(String, String)], log: [EpochLog] = []) {
        (self.title, self.items, self.log) = (title, items, log)
    }

    /// The settings of a search run.
    public init<B: SearchBenchmark>(search: HypernetworkFile, devices: [SearchDevice], seconds: Double, baselineBudget: Int, command: String,
                                    benchmark: B) {
        let c = search.configuration
        let training = devices.filter(\.isTraining), zeroShot = devices.filter { !$0.isTraining }
        title = "MODNAS search (\(benchmark.space.name.shortName), accuracy: \(search.accuracyMode.rawValue))"
        log = search.log
        items = [
            ("command", command),
            ("created", ISO8601DateFormatter().string(from: search.createdAt)),
            ("training devices (\(training.count))", training.map { "\($0.name) [\($0.latencySource)]" }.joined(separator: ", ")),
            ("zero-shot devices (\(zeroShot.count))", zeroShot.map { "\($0.name) [\($0.latencySource)]" }.joined(separator: ", ")),
            ("accuracy", Self.accuracyText(search, benchmark: benchmark)),
            ("hypernetwork steps", "\(c.epochs) epochs\(search.supernet.map { ", the first \($0.configuration.warmupEpochs) training the supernet only," } ?? "") × \(c.stepsPerEpoch) steps × \(c.preferencesPerStep) preference vectors per device, \((c.scalarization ?? .linear).rawValue) scalarisation, gradients combined by \(c.combination.rawValue); Adam lr \(c.learningRate.map { "\($0)" } ?? "3e-4 × \(training.count)"), betas (\(c.beta1), \(c.beta2)), weight decay \(c.weightDecay), λ = \(c.cosineWeight), hidden \(c.hidden), seed \(c.seed)"),
            ("objectives", search.objectiveList.description),
            ("preference vectors", search.objectiveList.count == 2 ? "\(c.preferences), r = (cos θ, sin θ), θ evenly over [0, π/2]"
                : "\(Fronts.preferences(count: c.preferences, objectives: search.objectiveList.count).count), Das and Dennis's simplex lattice (the smallest with at least \(c.preferences))"),
            ("search time", String(format: "%.1f s", seconds)),
            ("baselines", baselineBudget > 0 ? "random, local search, NSGA-II: \(baselineBudget) architectures queried per benchmark device (\(benchmark.baselineObjectives))" : "not run"),
            ("normalisation", benchmark.normalization),
            ("search normalisation", "the search's own objectives are min-max normalised over \(NormalizationSet.description(of: benchmark.space))"),
        ]
    }

    static func accuracyText<B: SearchBenchmark>(_ search: HypernetworkFile, benchmark: B) -> String {
        let column = Fronts.estimatedLossColumn(search.objectiveList.loss)
        if let s = search.surrogate, search.accuracyMode == .proxy {
            return "surrogate fitted on a \(s.source); fronts' \(column) is its pseudo-loss, a rank, not a \(search.objectiveList.loss.name). The HV table and the "
                + "plots of benchmark devices score the same architectures with the benchmark's \(benchmark.errorSource)."
        }
        if let s = search.surrogate {
            return "surrogate fitted on K = \(s.queried.count) queried architectures (\(s.source)); fronts' \(column) comes from it"
        }
        if search.accuracyMode == .benchmark {
            return "the benchmark's own estimate, differentiable: \(benchmark.errorSource); fronts' \(column) comes from it"
        }
        return "\(search.supernet?.settings ?? "supernet"). Fronts' \(column) is the trained supernet's error on the test split of that "
            + "data. The HV table and the plots of benchmark devices score the same architectures with the NB201 benchmark's test error "
            + "(CIFAR-10 unless stated), which is another data set when the search ran on other data."
    }
}

/// One HTML page, no network access needed: settings, the HV table, a plot per device.
public struct HTMLReport {
    public var settings: RunSettings
    public var results: [DeviceEvaluation]
    public var missing: [String: String]
    public var rows: [FrontRow]
    public var benchmark: any SearchBenchmark
    public var objectives: ObjectiveList

    static let baselineStyle: [(name: String, color: String, mark: SVGPlot.Mark)] =
        [("random", "#2a7fbf", .square), ("local search", "#2ca02c", .triangle), ("NSGA-II", "#9467bd", .cross)]

    public init(settings: RunSettings, results: [DeviceEvaluation], missing: [String: String], rows: [FrontRow], benchmark: any SearchBenchmark,
                objectives: ObjectiveList = .errorAndLatency) {
        (self.settings, self.results, self.missing, self.rows, self.benchmark) = (settings, results, missing, rows, benchmark)
        self.objectives = objectives
    }

    public func render() -> String {
        var html = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>modnas report</title>
        <style>body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:13px}
        td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
        .plots{display:flex;flex-wrap:wrap;gap:12px}.plot{border:1px solid #eee;padding:4px}h3{margin:4px 0;font-size:14px}
        .note{color:#555;font-size:13px}</style></head><body>
        <h1>\(escapeHTML(settings.title))</h1>
        <h2>Settings</h2><table>
        """
        for (k, v) in settings.items { html += "<tr><th>\(escapeHTML(k))</th><td style=\"text-align:left\">\(escapeHTML(v))</td></tr>" }
        html += "</table>"
        html += "<h2>Hypervolume</h2><p class=\"note\">HV of each device's front: the benchmark's costs and loss for devices with a table; measured latency for a profiled host (its latency range is that of its measured architectures). A MODNAS front has one architecture per preference vector (fewer when several coincide).</p>"
        html += hypervolumeTable()
        if !settings.log.isEmpty { html += "<h2>Convergence</h2>" + convergencePlot() }
        html += "<h2>Fronts</h2><div class=\"plots\">"
        let devices = rows.map(\.device).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        // A plot per pair of the device's objectives (error against each cost, then cost against cost) and device.
        for device in devices {
            var view = self
            view.objectives = objectives(of: device)
            let pairs = (0..<view.objectives.count).flatMap { y in ((y + 1)..<view.objectives.count).map { x in (x: x, y: y) } }
            for pair in pairs { html += "<div class=\"plot\">" + view.plot(device, x: pair.x, y: pair.y) + "</div>" }
        }
        return html + "</div></body></html>\n"
    }

    /// The objectives a device's front has values of: all but a cost the device lacks (energy on
    /// a host without RAPL).
    func objectives(of device: String) -> ObjectiveList {
        let absent = results.first { $0.device == device }?.absentCosts ?? []
        let front = rows.filter { $0.device == device }
        let costs = objectives.costs.filter { cost in !absent.contains(cost) && (!cost.isPerDevice || cost == .latency || front.allSatisfy { $0.extraCosts[cost] != nil }) }
        return ObjectiveList(costs: costs, loss: objectives.loss)
    }

    func hypervolumeTable() -> String {
        let names = FrontEvaluation.baselineColumns(results)
        var s = "<table><tr><th>device</th><th>latency</th><th>archs</th><th>HV</th><th>true HV</th><th>ratio</th><th>GD</th><th>IGD</th>"
            + names.map { "<th>HV \(escapeHTML($0))</th>" }.joined() + "</tr>"
        func f(_ v: Double?, _ format: String = "%.4f") -> String { v.map { String(format: format, $0) } ?? "—" }
        for r in results {
            s += "<tr><td>\(escapeHTML(r.device))</td><td>\(r.latencySource.rawValue)</td><td>\(r.distinct)</td><td>\(f(r.hypervolume))</td><td>\(f(r.trueHypervolume))</td>"
                + "<td>\(f(r.ratio, "%.3f"))</td><td>\(f(r.generationalDistance))</td><td>\(f(r.invertedGenerationalDistance))</td>"
                + names.map { "<td>\(f(r.baselines[$0]))</td>" }.joined() + "</tr>"
        }
        if let (count, means) = FrontEvaluation.benchmarkMeans(results, baselines: names) {
            s += "<tr><th>mean (benchmark)</th><td></td><td>\(count)</td>"
                + means.enumerated().map { "<th>\(f($1, $0 == 2 ? "%.3f" : "%.4f"))</th>" }.joined() + "</tr>"
        }
        s += "</table>"
        if !missing.isEmpty {
            s += "<ul class=\"note\">" + missing.sorted { $0.key < $1.key }.map { "<li>\(escapeHTML($0.key)): not evaluated — \(escapeHTML($0.value))</li>" }.joined() + "</ul>"
        }
        return s
    }

    func convergencePlot() -> String {
        let log = settings.log
        let values = log.flatMap { [$0.predictedHypervolume, $0.benchmarkHypervolume].compactMap { $0 } }
        guard let low = values.min(), let high = values.max() else { return "<p class=\"note\">No HV was computed during the search.</p>" }
        var p = SVGPlot(xLabel: "epoch", yLabel: "mean HV (training devices)", xRange: 1...Double(max(log.count, 2)),
                        yRange: (low - 0.01)...(high + 0.01))
        let predicted = log.compactMap { e in e.predictedHypervolume.map { (Double(e.epoch), $0) } }
        if !predicted.isEmpty { p.line(predicted, color: "#d62728", label: "predicted objectives (surrogate, predictor)") }
        let bench = log.compactMap { e in e.benchmarkHypervolume.map { (Double(e.epoch), $0) } }
        if !bench.isEmpty { p.line(bench, color: "#333", label: "benchmark objectives") }
        return p.render()
    }

    /// The axis label of objective `m` (0: the error) for a device evaluated with `source` latencies.
    func axisLabel(_ m: Int, latencySource: String) -> String {
        guard m > 0 else { return objectives.loss.label(source: benchmark.errorLabel) }
        let cost = objectives.costs[m - 1]
        return cost == .latency ? "latency (ms, \(latencySource))" : "\(cost.label) (counted)"
    }

    /// A device's plot of objective `y` against objective `x`: benchmark or measured values where
    /// known, else the front's predicted values. The benchmark's cloud and true front are drawn
    /// on the error–latency pair.
    func plot(_ device: String, x: Int, y: Int) -> String {
        let front = rows.filter { $0.device == device }
        let pairName = objectives.count > 2 ? " (\(y == 0 ? "error" : objectives.costs[y - 1].rawValue) × \(objectives.costs[x - 1].rawValue))" : ""
        func range(_ values: [Double]) -> ClosedRange<Double> { values.min()!...max(values.max()!, values.min()! + 1e-9) }
        if let r = results.first(where: { $0.device == device }) {
            let xs = r.points.map { $0.values[x] }, ys = r.points.map { $0.values[y] }
            let errorAxis = y == 0
            let errorLatency = errorAxis && objectives.costs[x - 1] == .latency
            let cloud = errorLatency ? benchmark.points(device: device)?.filter { $0.isBelow(benchmark.chanceGate) } : nil
            let yRange: ClosedRange<Double>
            if errorAxis {
                let errors = ys + (r.latencySource == .benchmark ? [r.bounds.errorRange.lowerBound] : [])
                let top = max((cloud ?? r.points).map(\.error).max() ?? benchmark.chanceGate ?? 100, ys.max() ?? 0) * 1.05
                let ceiling = benchmark.chanceGate.map { benchmark.pointsAreTheWholeSpace ? $0 : min($0, top) } ?? top
                yRange = max(errors.min()! * 0.9, 1)...ceiling
            } else {
                yRange = r.bounds.ranges[y]
            }
            var p = SVGPlot(xLabel: axisLabel(x, latencySource: r.latencySource.rawValue), yLabel: axisLabel(y, latencySource: r.latencySource.rawValue),
                            xRange: r.bounds.ranges[x], yRange: yRange, logY: errorAxis)
            if let cloud {
                p.cloud(cloud.map { ($0.latency, $0.error) })
                if benchmark.pointsAreTheWholeSpace {
                    p.staircase(ParetoMetrics.front(cloud).map { ($0.latency, $0.error) }, color: "#111", label: "true front")
                }
            }
            for style in Self.baselineStyle {
                if let points = r.baselinePoints[style.name] { p.scatter(points.map { ($0.values[x], $0.values[y]) }, mark: style.mark, color: style.color, label: style.name) }
            }
            p.scatter(zip(xs, ys).map { ($0, $1) }, mark: .circle, color: "#d62728", label: "MODNAS front")
            let title = String(format: "%@%@ — HV %.4f", device, pairName, r.hypervolume) + (r.trueHypervolume.map { String(format: " of %.4f", $0) } ?? "")
            return "<h3>\(escapeHTML(title))</h3>" + p.render()
        }
        // A zero-shot device: the front's predicted latency, counted costs and estimated error.
        func value(_ row: FrontRow, _ m: Int) -> Double? {
            m == 0 ? row.estimatedLoss : objectives.costs[m - 1] == .latency ? row.predictedLatencyMs : row.extraCosts[objectives.costs[m - 1]]
        }
        let points = front.compactMap { row in value(row, x).flatMap { vx in value(row, y).map { (vx, $0) } } }
        guard !points.isEmpty else { return "<h3>\(escapeHTML(device + pairName)) — zero-shot: no accuracy estimates for its front</h3>" }
        let ys = points.map(\.1)
        var p = SVGPlot(xLabel: axisLabel(x, latencySource: "predicted"), yLabel: y == 0 ? objectives.loss.label(source: "search's estimate") : axisLabel(y, latencySource: "predicted"),
                        xRange: range(points.map(\.0)), yRange: y == 0 ? max(ys.min()! * 0.9, 1)...max(ys.max()! * 1.1, 10) : range(ys), logY: y == 0)
        p.scatter(points, mark: .circle, color: "#d62728", label: "MODNAS front (predicted values)")
        return "<h3>\(escapeHTML(device + pairName)) — zero-shot, no benchmark table</h3>" + p.render()
    }
}
