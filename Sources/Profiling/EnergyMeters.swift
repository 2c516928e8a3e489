import CPerfEvent
import Foundation

/// How `collect` should measure energy.
public enum EnergyMode: String, CaseIterable, Sendable {
    case auto, rapl, perf, off
}

/// A cumulative energy counter: take a sample before and after a window, then convert.
public protocol EnergyMeter: AnyObject {
    /// "rapl-powercap" or "perf-power".
    var source: String { get }
    /// The non-overlapping domains whose energies are added.
    var domains: [String] { get }
    /// Raw counter values, one per domain.
    func sample() throws -> [UInt64]
    /// Joules between two samples.
    func joules(from start: [UInt64], to end: [UInt64]) -> Double
}

/// Picks the domains to add without overlap: psys covers the whole platform, so it stands alone;
/// otherwise every package plus every DRAM domain. Core, uncore and GPU lie inside a package.
func nonOverlappingDomains(_ names: [String]) -> [String] {
    let platform = names.filter { $0 == "psys" || $0 == "energy-psys" }
    if !platform.isEmpty { return platform }
    return names.filter { $0.hasPrefix("package") || $0 == "dram" || $0 == "energy-pkg" || $0 == "energy-ram" }
}

/// RAPL through the powercap sysfs tree (`/sys/class/powercap/intel-rapl:*`).
public final class RaplPowercap: EnergyMeter {
    public let source = "rapl-powercap"
    public let domains: [String]
    private let zones: [(path: String, maxRange: UInt64)]
    private let kernel: KernelInterface

    /// Finds the RAPL zones under `root`; throws a reason when there are none or they are unreadable.
    public init(root: String = "/sys/class/powercap", kernel: KernelInterface) throws {
        self.kernel = kernel
        let entries: [String]
        do { entries = try kernel.listDirectory(root) } catch {
            throw ProfilingError.energyUnavailable(mode: "rapl", reason: "no powercap tree at \(root)")
        }
        var named: [(name: String, path: String)] = []
        for zone in entries where zone.hasPrefix("intel-rapl:") {
            let path = "\(root)/\(zone)"
            guard let name = try? kernel.readFile("\(path)/name").trimmingCharacters(in: .whitespacesAndNewlines) else { continue }
            named.append((name, path))
        }
        guard !named.isEmpty else {
            throw ProfilingError.energyUnavailable(mode: "rapl", reason: "no intel-rapl zones under \(root)")
        }
        let chosen = nonOverlappingDomains(named.map(\.name))
        var zones: [(String, UInt64)] = []
        for (name, path) in named where chosen.contains(name) {
            let maxText = try? kernel.readFile("\(path)/max_energy_range_uj").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let maxRange = maxText.flatMap({ UInt64($0) }) else {
                throw ProfilingError.energyUnavailable(mode: "rapl", reason: "\(path)/max_energy_range_uj is unreadable")
            }
            do { _ = try kernel.readFile("\(path)/energy_uj") } catch let e as KernelCallError where e.code == EACCES || e.code == EPERM {
                throw ProfilingError.energyUnavailable(
                    mode: "rapl", reason: "\(path)/energy_uj is readable by root only (since CVE-2020-8694): \(e)")
            }
            zones.append((path, maxRange))
        }
        domains = named.filter { chosen.contains($0.name) }.map(\.name)
        self.zones = zones
    }

    public func sample() throws -> [UInt64] {
        try zones.map { zone in
            let text = try kernel.readFile("\(zone.path)/energy_uj").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let v = UInt64(text) else { throw KernelCallError(call: "read(\(zone.path)/energy_uj)", code: EIO) }
            return v
        }
    }

    public func joules(from start: [UInt64], to end: [UInt64]) -> Double {
        zip(zones, zip(start, end)).reduce(0.0) { sum, item in
            sum + Double(Self.delta(from: item.1.0, to: item.1.1, maxRange: item.0.maxRange)) / 1e6
        }
    }

    /// Microjoules between two readings of a counter that wraps to 0 after `maxRange`.
    public static func delta(from start: UInt64, to end: UInt64, maxRange: UInt64) -> UInt64 {
        end >= start ? end - start : (maxRange - start) + end
    }
}

/// The perf `power` PMU (`/sys/bus/event_source/devices/power`), counted system-wide on the
/// PMU's CPU.
public final class PerfPowerMeter: EnergyMeter {
    public let source = "perf-power"
    public let domains: [String]
    private let counters: [(fd: Int32, scale: Double)]
    private let kernel: KernelInterface

    public init(root: String = "/sys/bus/event_source/devices/power", kernel: KernelInterface) throws {
        self.kernel = kernel
        func fail(_ reason: String) -> ProfilingError { .energyUnavailable(mode: "perf", reason: reason) }
        guard let typeText = try? kernel.readFile("\(root)/type"),
              let type = UInt32(typeText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw fail("no perf power PMU at \(root)")
        }
        let events = ((try? kernel.listDirectory("\(root)/events")) ?? []).filter { !$0.contains(".") }
        let chosen = nonOverlappingDomains(events)
        guard !chosen.isEmpty else { throw fail("the perf power PMU lists no energy events") }
        let cpu = Int32(((try? kernel.readFile("\(root)/cpumask")) ?? "0")
            .split(whereSeparator: { ",-\n ".contains($0) }).first.flatMap { Int($0) } ?? 0)
        var opened: [(Int32, Double)] = []
        for name in chosen {
            let spec = (try? kernel.readFile("\(root)/events/\(name)")) ?? ""
            guard let configText = spec.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines),
                  let config = UInt64(configText.replacingOccurrences(of: "0x", with: ""), radix: 16) else {
                throw fail("cannot parse \(root)/events/\(name) ('\(spec)')")
            }
            let scale = Double(((try? kernel.readFile("\(root)/events/\(name).scale")) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
            var attr = perf_event_attr()
            attr.type = type
            attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
            attr.config = config
            do {
                opened.append((try kernel.perfEventOpen(attr, pid: -1, cpu: cpu, groupFD: -1), scale))
            } catch let error as KernelCallError {
                for (fd, _) in opened { kernel.close(fd) }
                throw fail("cannot open power/\(name) system-wide on CPU \(cpu): \(error)")
            }
        }
        counters = opened
        domains = chosen
    }

    deinit { for c in counters { kernel.close(c.fd) } }

    public func sample() throws -> [UInt64] {
        try counters.map { try kernel.readWords($0.fd, count: 1).first ?? 0 }
    }

    public func joules(from start: [UInt64], to end: [UInt64]) -> Double {
        zip(counters, zip(start, end)).reduce(0.0) { $0 + Double($1.1.1 &- $1.1.0) * $1.0.scale }
    }
}

/// The energy meter for a mode, or why there is none.
public enum EnergyProbe {
    /// `auto` tries RAPL, then the perf power PMU, and otherwise returns the reasons; `rapl` and
    /// `perf` throw when their source cannot measure; `off` returns a reason.
    public static func meter(mode: EnergyMode, kernel: KernelInterface,
                             powercapRoot: String = "/sys/class/powercap",
                             powerPMURoot: String = "/sys/bus/event_source/devices/power") throws -> (EnergyMeter?, String?) {
        switch mode {
        case .off: return (nil, "energy measurement turned off (--energy off)")
        case .rapl: return (try RaplPowercap(root: powercapRoot, kernel: kernel), nil)
        case .perf: return (try PerfPowerMeter(root: powerPMURoot, kernel: kernel), nil)
        case .auto:
            var reasons: [String] = []
            for make in [{ try RaplPowercap(root: powercapRoot, kernel: kernel) as EnergyMeter },
                         { try PerfPowerMeter(root: powerPMURoot, kernel: kernel) as EnergyMeter }] {
                do { return (try make(), nil) } catch let ProfilingError.energyUnavailable(_, reason) {
                    reasons.append(reason)
                }
            }
            return (nil, "no energy source: " + reasons.joined(separator: "; "))
        }
    }
}
