import ArgumentParser
import Foundation
import NIOHTTP1
import SplitPlaneProtocol

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Alerts received from agents, their groups, acknowledgement and notifications.",
        subcommands: [List.self, Groups.self, Group.self, Ack.self, Unack.self, Notifications.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List alerts, newest state per alert.",
            discussion: "Example: qbctl alerts list --tenant acme --state firing")
        @OptionGroup var connection: ConnectionOptions
        @Option var tenant: String?
        @Option var environment: String?
        @Option(help: "firing or resolved.") var state: String?
        func run() async throws {
            try await runCLI {
                var query: [String] = []
                if let tenant { query.append("tenant=\(try checked(tenant))") }
                if let environment { query.append("environment=\(try checked(environment))") }
                if let state {
                    guard AlertState(rawValue: state) != nil else { throw CLIError.usage("--state must be firing or resolved") }
                    query.append("state=\(state)")
                }
                let path = "/v1/alerts" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                let list = try await connection.client().get(path, as: ListResponse<StoredAlert>.self)
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                Output.table(
                    ["TENANT", "ENVIRONMENT", "WORKSPACE", "ALERT", "SEVERITY", "STATE", "SINCE", "SUMMARY"],
                    list.items.map {
                        [
                            $0.tenant, $0.environment, $0.workspace, $0.labels["alertname"] ?? "-", $0.labels["severity"] ?? "-",
                            $0.state.rawValue, Output.age($0.startsAt), $0.annotations["summary"] ?? "",
                        ]
                    })
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List alert groups: what is notified together, and who acknowledged it.",
            discussion: "Example: qbctl alerts groups --tenant acme")
        @OptionGroup var connection: ConnectionOptions
        @Option var tenant: String?
        func run() async throws {
            try await runCLI {
                let path = "/v1/alert-groups" + (try tenant.map { "?tenant=\(try checked($0))" } ?? "")
                let list = try await connection.client().get(path, as: ListResponse<AlertGroup>.self)
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                Output.table(
                    ["ID", "GROUP", "RECEIVER", "FIRING", "RESOLVED", "NOTIFIED", "ACKNOWLEDGED"],
                    list.items.map { group in
                        [
                            group.id, group.groupLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                            group.receiver, String(group.firing), String(group.resolved), Output.age(group.lastNotifiedAt),
                            group.acknowledgement.map { "\($0.by) (\(Output.age($0.at)) ago)" } ?? "-",
                        ]
                    })
            }
        }
    }

    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one alert group with its alerts.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group id (16 hex digits, from `qbctl alerts groups`).") var id: String
        func run() async throws {
            try await runCLI {
                let group = try await connection.client().get("/v1/alert-groups/\(try groupID(id))", as: AlertGroup.self)
                if connection.output.isStructured { return try Output.structured(group, connection.output) }
                print("Group:        \(group.id)")
                print("Labels:       \(group.groupLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
                print("Route:        \(group.route) → \(group.receiver)")
                print("Notified:     \(group.lastNotifiedAt.map { "\(Output.age($0)) ago" } ?? "never")")
                print(
                    "Acknowledged: \(group.acknowledgement.map { "by \($0.by) via \($0.via), \(Output.age($0.at)) ago\($0.comment.map { ": \($0)" } ?? "")" } ?? "no")"
                )
                print("")
                Output.table(
                    ["ALERT", "SEVERITY", "ENVIRONMENT", "WORKSPACE", "STATE", "SINCE", "SUMMARY"],
                    (group.alerts ?? []).map {
                        [
                            $0.labels["alertname"] ?? "-", $0.labels["severity"] ?? "-", $0.environment, $0.workspace, $0.state.rawValue,
                            Output.age($0.startsAt), $0.annotations["summary"] ?? "",
                        ]
                    })
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge an alert group: it stops repeating until a new alert joins or it fires again.",
            discussion: "Example: qbctl alerts ack 3f9a0c1e5b7d2a64 --by alice --comment \"rolling back\"")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group id.") var id: String
        @Option(help: "Who acknowledges (recorded and shown in later messages). Default: $USER.") var by: String?
        @Option(help: "Why, for the team channel.") var comment: String?
        func run() async throws {
            try await runCLI {
                let request = AcknowledgeRequest(by: by ?? ProcessInfo.processInfo.environment["USER"], comment: comment)
                let group = try await connection.client().send(.POST, "/v1/alert-groups/\(try groupID(id))/ack", json: request, as: AlertGroup.self)
                if connection.output.isStructured { return try Output.structured(group, connection.output) }
                print("alert group \(group.id) acknowledged by \(group.acknowledgement?.by ?? "-")")
            }
        }
    }

    struct Unack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw an acknowledgement: the group repeats again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group id.") var id: String
        func run() async throws {
            try await runCLI {
                let group = try await connection.client().send(
                    .POST, "/v1/alert-groups/\(try groupID(id))/unack", json: AcknowledgeRequest(), as: AlertGroup.self)
                if connection.output.isStructured { return try Output.structured(group, connection.output) }
                print("alert group \(group.id) is no longer acknowledged")
            }
        }
    }

    struct Notifications: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Notifications recorded and their delivery: sent, pending (with the last error), failed.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only this group's.") var group: String?
        @Option(help: "At most this many, newest first (1-1000).") var limit: Int = 50
        func run() async throws {
            try await runCLI {
                var path = "/v1/notifications?limit=\(limit)"
                if let group { path += "&group=\(try groupID(group))" }
                let list = try await connection.client().get(path, as: ListResponse<NotificationRecord>.self)
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                // "unanswered": an attempt went out and its answer was not recorded (in flight, or lost).
                Output.table(
                    ["ID", "GROUP", "INTEGRATION", "FIRING", "RESOLVED", "STATE", "ATTEMPTS", "CREATED", "ERROR"],
                    list.items.map {
                        [
                            String($0.id), $0.groupID, $0.integration, String($0.firing), String($0.resolved),
                            $0.unansweredSince.map { "unanswered \(Output.age($0))" } ?? $0.state.rawValue, String($0.attempts),
                            Output.age($0.createdAt), $0.lastError ?? "",
                        ]
                    })
            }
        }
    }
}

func groupID(_ id: String) throws -> String {
    guard id.count == 16, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
        throw CLIError.usage("\"\(id)\" is not an alert group id (16 lowercase hex digits; see `qbctl alerts groups`)")
    }
    return id
}
