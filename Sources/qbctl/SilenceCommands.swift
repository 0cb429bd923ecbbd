import ArgumentParser
import Foundation
import NIOHTTP1
import SplitPlaneProtocol

struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Mute alerts matching label matchers for a while (Alertmanager's silences).",
        subcommands: [Create.self, List.self, Expire.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a silence.",
            discussion: """
                Matchers use Alertmanager's syntax; tenant and environment are labels too.
                Example: qbctl silence create -m 'tenant=acme' -m 'alertname=~"Disk.*"' --duration 2h --comment "disk migration"
                """)
        @OptionGroup var connection: ConnectionOptions
        @Option(name: [.short, .customLong("matcher")], help: "A matcher: name=value, name!=value, name=~regex, name!~regex. Repeatable.")
        var matchers: [String] = []
        @Option(help: "How long, from now (e.g. 30m, 2h).") var duration: String
        @Option(help: "Why (required).") var comment: String
        @Option(help: "Who. Default: $USER.") var by: String?
        func run() async throws {
            try await runCLI {
                guard !matchers.isEmpty else { throw CLIError.usage("give at least one --matcher") }
                let request = SilenceRequest(
                    matchers: matchers, duration: duration,
                    createdBy: by ?? ProcessInfo.processInfo.environment["USER"] ?? "qbctl", comment: comment)
                let silence = try await connection.client().send(.POST, "/v1/silences", json: request, as: Silence.self)
                if connection.output.isStructured { return try Output.structured(silence, connection.output) }
                print("silence \(silence.id) created, until \(Timestamp.format(silence.endsAt))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Include expired silences.") var all = false
        func run() async throws {
            try await runCLI {
                var list = try await connection.client().get("/v1/silences", as: ListResponse<Silence>.self)
                if !all { list.items.removeAll { $0.state == .expired } }
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                Output.table(
                    ["ID", "STATE", "MATCHERS", "ENDS", "BY", "COMMENT"],
                    list.items.map {
                        [$0.id, $0.state.rawValue, $0.matchers.joined(separator: ", "), Timestamp.format($0.endsAt), $0.createdBy, $0.comment]
                    })
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var id: String
        func run() async throws {
            try await runCLI {
                guard UUID(uuidString: id) != nil else { throw CLIError.usage("\"\(id)\" is not a silence id (a UUID)") }
                let silence = try await connection.client().send(.DELETE, "/v1/silences/\(id.lowercased())", body: nil)
                if connection.output.isStructured { return try Output.raw(silence, connection.output) }
                print("silence \(id) expired")
            }
        }
    }
}

struct RoutingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing", abstract: "The controller's alert routing configuration.", subcommands: [Show.self, Reload.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the routing configuration in force, inherited values resolved (JSON).")
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runCLI { FileHandle.standardOutput.write(try await connection.client().send(.GET, "/v1/routing-config", body: nil)) }
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reload the routing file; a file with errors is refused and the running configuration stays.")
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runCLI {
                _ = try await connection.client().send(.POST, "/v1/routing-config/reload", body: nil)
                print("routing configuration reloaded")
            }
        }
    }
}
