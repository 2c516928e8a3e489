import Autodiff
import DeviceModel
import Foundation

/// Reads the host's fingerprint before measuring and warns about a noisy set-up.
public enum HostCheck {
    /// The fingerprint of this host as the profiler will measure it (after pinning).
    public static func fingerprint(kernel: KernelInterface, threads: Int) -> HostFingerprint {
        var unreadable: [String: String] = [:]
        func read(_ key: String, _ path: String) -> String? {
            do { return try kernel.readFile(path).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                unreadable[key] = "\(error)"
                return nil
            }
        }
        let cpuinfo = read("cpuinfo", "/proc/cpuinfo") ?? ""
        func cpuinfoField(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } }
        }
        let flags = (cpuinfoField("flags") ?? cpuinfoField("Features") ?? "").split(separator: " ").map(String.init)
        let allowed = (try? kernel.allowedCPUs()) ?? []
        let firstCPU = allowed.first ?? 0
        let governor = read("frequencyGovernor", "/sys/devices/system/cpu/cpu\(firstCPU)/cpufreq/scaling_governor")
        var turbo: String?
        if let noTurbo = try? kernel.readFile("/sys/devices/system/cpu/intel_pstate/no_turbo") {
            turbo = noTurbo.hasPrefix("1") ? "off" : "on"
        } else if let boost = try? kernel.readFile("/sys/devices/system/cpu/cpufreq/boost") {
            turbo = boost.hasPrefix("1") ? "on" : "off"
        } else {
            unreadable["turbo"] = "neither intel_pstate/no_turbo nor cpufreq/boost is readable"
        }
        let load = (read("loadAverage", "/proc/loadavg") ?? "").split(separator: " ").prefix(3).compactMap { Double($0) }
        let memory = (read("memory", "/proc/meminfo") ?? "").split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }.map { $0 * 1024 }
        let kernelVersion = [read("kernel", "/proc/sys/kernel/osrelease"), read("kernelVersion", "/proc/sys/kernel/version")]
            .compactMap { $0 }.joined(separator: " ")
        var virtualization: [String] = []
        if flags.contains("hypervisor") { virtualization.append("hypervisor flag set") }
        let dmi = [try? kernel.readFile("/sys/class/dmi/id/sys_vendor"), try? kernel.readFile("/sys/class/dmi/id/product_name")]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        if !virtualization.isEmpty && !dmi.isEmpty { virtualization.append("DMI: " + dmi.joined(separator: " ")) }
        if FileManager.default.fileExists(atPath: "/.dockerenv")
            || ((try? kernel.readFile("/proc/1/cgroup")) ?? "").contains("docker") { virtualization.append("container") }
        let blas = OpenBLASCoreSelection.status
        var host = HostFingerprint(
            hostname: ProcessInfo.processInfo.hostName, cpuModel: cpuinfoField("model name") ?? "unknown",
            cpuFlags: flags, logicalCPUs: ProcessInfo.processInfo.activeProcessorCount, allowedCPUs: allowed,
            frequencyGovernor: governor, turbo: turbo, loadAverage: load, memoryBytes: memory, kernel: kernelVersion,
            virtualization: virtualization.isEmpty ? "none detected" : virtualization.joined(separator: "; "),
            openBLASCore: blas.core, openBLASCoreOrigin: blas.origin.rawValue, openBLASThreads: threads,
            unreadable: unreadable, warnings: [])
        host.warnings = warnings(for: host, threads: threads)
        return host
    }

    /// Whether the host is virtualised or busy with other work: where wall time holds time the
    /// measuring thread did not run.
    public static func isShared(_ host: HostFingerprint) -> Bool {
        host.virtualization != "none detected"
            || (host.loadAverage.first.map { $0 > 0.5 * Double(max(host.allowedCPUs.count, 1)) } ?? false)
    }

    /// What makes timings on this host noisy (the collection goes on regardless).
    public static func warnings(for host: HostFingerprint, threads: Int) -> [String] {
        var w: [String] = []
        let cpus = max(host.allowedCPUs.count, 1)
        if let load = host.loadAverage.first, load > 0.5 * Double(cpus) {
            w.append("load average \(load) on \(cpus) usable CPU(s): other work will disturb the timings")
        }
        if let g = host.frequencyGovernor, g != "performance" {
            w.append("frequency governor is '\(g)'; 'performance' gives steadier timings")
        }
        if host.turbo == "on" { w.append("turbo boost is on: latencies depend on temperature and load") }
        if host.virtualization != "none detected" {
            w.append("virtualised (\(host.virtualization)): timings include the hypervisor's noise")
        }
        if threads > cpus { w.append("\(threads) threads on \(cpus) usable CPU(s): threads will compete") }
        return w
    }

    /// Bytes the kernel reports available for new work (`MemAvailable`, lowered to a cgroup v2
    /// limit's headroom where one is set); nil when neither can be read.
    public static func availableMemoryBytes(kernel: KernelInterface) -> Double? {
        let meminfo = (try? kernel.readFile("/proc/meminfo")) ?? ""
        let available = meminfo.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } }.map { $0 * 1024 }
        func cgroup(_ file: String) -> Double? {
            (try? kernel.readFile("/sys/fs/cgroup/\(file)")).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let headroom = cgroup("memory.max").map { $0 - (cgroup("memory.current") ?? 0) }
        switch (available, headroom) {
        case let (a?, h?): return min(a, h)
        case let (a, h): return a ?? h
        }
    }
}
