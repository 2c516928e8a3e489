import ArgumentParser
import CommandSupport

/// `modnas-profile`: the on-device profiler agent.
struct ProfileCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "modnas-profile",
            abstract: "Profile this host: latency, counters and energy of NB201 subnetworks into SQLite.",
            discussion: "Subcommands (collect, import, merge, export, devices, features) arrive with the profiler.",
            version: versionText)
    }
}
