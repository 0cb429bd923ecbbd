import ArgumentParser
import Foundation
import SplitPlaneProtocol
import Yams

/// The kinds `get`, `describe`, `delete` and `apply` know, with kubectl-like short names.
enum ResourceKind: String, ExpressibleByArgument, CaseIterable {
    case tenant, environment, workspace

    init?(argument: String) {
        switch argument.lowercased() {
        case "tenant", "tenants", "t": self = .tenant
        case "environment", "environments", "env", "envs": self = .environment
        case "workspace", "workspaces", "ws": self = .workspace
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["tenants", "environments", "workspaces"] }
}

/// `-t`/`-e`: where environments and workspaces live.
struct ScopeOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Tenant of the environments or workspaces.") var tenant: String?
    @Option(name: [.short, .customLong("env")], help: "Environment of the workspaces.") var environment: String?

    func tenantPath() throws -> String {
        guard let tenant else { throw CLIError.usage("--tenant (-t) is required for environments and workspaces") }
        return "/v1/tenants/\(try checked(tenant))"
    }

    func environmentPath() throws -> String {
        guard let environment else { throw CLIError.usage("--env (-e) is required for workspaces") }
        return try tenantPath() + "/environments/\(try checked(environment))"
    }

    func path(_ kind: ResourceKind, _ name: String?) throws -> String {
        let collection =
            switch kind {
            case .tenant: "/v1/tenants"
            case .environment: try tenantPath() + "/environments"
            case .workspace: try environmentPath() + "/workspaces"
            }
        return try name.map { collection + "/\(try checked($0))" } ?? collection
    }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "List resources of a kind, or show one, as a table, JSON or YAML.",
        discussion: """
            Examples:
              qbctl get tenants
              qbctl get environments -t acme
              qbctl get workspaces -t acme -e prod -o yaml
              qbctl get workspace analytics -t acme -e prod
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var scope: ScopeOptions
    @Argument(help: "tenants, environments (env) or workspaces (ws).") var kind: ResourceKind
    @Argument(help: "One resource's name; all of them without it.") var name: String?

    func run() async throws {
        try await runCLI {
            let client = try connection.client()
            let path = try scope.path(kind, name)
            let format = connection.output
            switch (kind, name) {
            case (.tenant, nil):
                let list = try await client.get(path, as: ListResponse<Tenant>.self)
                try format.isStructured ? Output.structured(list, format) : TenantCommand.show(tenants: list.items, .table)
            case (.tenant, _?):
                try TenantCommand.show(tenants: [try await client.get(path, as: Tenant.self)], format)
            case (.environment, nil):
                let list = try await client.get(path, as: ListResponse<Environment>.self)
                try format.isStructured ? Output.structured(list, format) : EnvironmentCommand.show(environments: list.items, .table)
            case (.environment, _?):
                try EnvironmentCommand.show(environments: [try await client.get(path, as: Environment.self)], format)
            case (.workspace, nil):
                let list = try await client.get(path, as: ListResponse<Workspace>.self)
                try format.isStructured ? Output.structured(list, format) : WorkspaceCommand.summary(list.items)
            case (.workspace, _?):
                let workspace = try await client.get(path, as: Workspace.self)
                try format.isStructured ? Output.structured(workspace, format) : WorkspaceCommand.summary([workspace])
            }
        }
    }
}

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Show one resource in detail: conditions, components, objects not ready, agent facts.",
        discussion: "Example: qbctl describe workspace analytics -t acme -e prod"
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var scope: ScopeOptions
    @Argument(help: "tenant, environment (env) or workspace (ws).") var kind: ResourceKind
    @Argument var name: String

    func run() async throws {
        try await runCLI {
            let client = try connection.client()
            switch kind {
            case .tenant:
                let tenant = try await client.get(try scope.path(.tenant, name), as: Tenant.self)
                try TenantCommand.show(tenants: [tenant], .table)
                let environments = try await client.get("/v1/tenants/\(try checked(name))/environments", as: ListResponse<Environment>.self)
                print("\nENVIRONMENTS")
                try EnvironmentCommand.show(environments: environments.items, .table)
            case .environment:
                let environment = try await client.get(try scope.path(.environment, name), as: Environment.self)
                try EnvironmentCommand.show(environments: [environment], .table)
                if let agent = environment.agent {
                    print("\nAGENT (last seen \(Output.age(environment.agentLastSeen)) ago)")
                    Output.table(
                        ["VERSION", "INSTANCE", "NAMESPACE", "REVISION", "RULES", "METRICS STORE", "CERTIFICATE EXPIRES"],
                        [
                            [
                                agent.version, agent.instance, agent.namespace ?? "-", String(agent.desiredRevision), String(agent.rulesLoaded),
                                agent.metricsStoreReachable.map { $0 ? "reachable" : "unreachable" } ?? "-",
                                agent.certificateExpiry.map { ISO8601DateFormatter().string(from: $0) } ?? "-",
                            ]
                        ])
                } else {
                    print("\nno agent has connected yet")
                }
                EnvironmentCommand.describeProvisioning(environment)
                let workspaces = try await client.get(try scope.path(.environment, name) + "/workspaces", as: ListResponse<Workspace>.self)
                print("\nWORKSPACES")
                WorkspaceCommand.summary(workspaces.items)
            case .workspace:
                let workspace = try await client.get(try scope.path(.workspace, name), as: Workspace.self)
                WorkspaceCommand.describe(workspace)
            }
        }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a tenant, environment or workspace.",
        discussion: "Example: qbctl delete workspace analytics -t acme -e prod"
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var scope: ScopeOptions
    @Argument(help: "tenant, environment (env) or workspace (ws).") var kind: ResourceKind
    @Argument var name: String
    @Flag(help: "A managed environment: delete its cloud resources too.") var confirmDeprovision = false

    func run() async throws {
        try await runCLI {
            let answer = try await connection.client().send(
                .DELETE, try scope.path(kind, name) + (kind == .environment && confirmDeprovision ? "?confirm=true" : ""), body: nil)
            print(kind == .environment ? EnvironmentCommand.deletedMessage(name, answer: answer) : "\(kind.rawValue) \(name) deleted")
        }
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create or update tenants, environments and workspaces from YAML or JSON documents.",
        discussion: """
            Documents (several per file, separated by ---) are applied tenants first, then environments, then
            workspaces; each line says created, configured or unchanged. A document that fails is reported
            and the others still go ahead; the exit code is then 1.
              kind: Tenant        name, displayName
              kind: Environment   tenant, name, cloud, mode, namespace, registry, observability, cloudAccess (managed)
              kind: Workspace     tenant, environment, name, spec
            Use -f - to read standard input.
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .shortAndLong, help: "File to apply (- for stdin).") var file: String

    func run() async throws {
        try await runCLI {
            let documents = try Self.documents(file)
            let client = try connection.client()
            var failures = 0
            let order: [String: Int] = ["Tenant": 0, "Environment": 1, "Workspace": 2]
            for (index, document) in documents.enumerated().sorted(by: {
                (order[$0.1["kind"] as? String ?? ""] ?? 3, $0.0) < (order[$1.1["kind"] as? String ?? ""] ?? 3, $1.0)
            }) {
                do {
                    print(try await Self.apply(document, client: client))
                } catch let error as CLIError {
                    failures += 1
                    FileHandle.standardError.write(Data("error: document \(index + 1): \(error.message)\n".utf8))
                }
            }
            if failures > 0 { throw CLIError(message: "\(failures) of \(documents.count) document(s) not applied", exitCode: 1) }
        }
    }

    static func documents(_ file: String) throws -> [[String: Any]] {
        let text = try readInput(file)
        do {
            let loaded = try Yams.load_all(yaml: text).compactMap { $0 }
            guard !loaded.isEmpty else { throw CLIError(message: "\(file) holds no document", exitCode: 1) }
            return try loaded.enumerated().map { index, document in
                guard let object = document as? [String: Any], JSONSerialization.isValidJSONObject(object) else {
                    throw CLIError(message: "\(file): document \(index + 1) is not a mapping", exitCode: 1)
                }
                return object
            }
        } catch let error as CLIError {
            throw error
        } catch {
            let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw CLIError(message: "\(file): not valid YAML or JSON: \(reason)", exitCode: 1)
        }
    }

    static func apply(_ document: [String: Any], client: APIClient) async throws -> String {
        func string(_ key: String) throws -> String {
            guard let value = document[key] as? String else { throw CLIError(message: "`\(key)` is required", exitCode: 1) }
            return value
        }
        func json(_ keys: [String]) throws -> Data {
            try JSONSerialization.data(withJSONObject: document.filter { keys.contains($0.key) })
        }
        switch document["kind"] as? String {
        case "Tenant":
            let name = try checked(try string("name"))
            do {
                _ = try await client.send(.POST, "/v1/tenants", body: try json(["name", "displayName"]))
                return "tenant/\(name) created"
            } catch let error as CLIError where error.status == 409 {
                return "tenant/\(name) unchanged"
            }
        case "Environment":
            let tenant = try checked(try string("tenant")), name = try checked(try string("name"))
            let path = "/v1/tenants/\(tenant)/environments"
            // `observability` is set by a PATCH after creation (the stack is its own workspace).
            let observability = document["observability"]
            func patchObservability() async throws {
                _ = try await client.send(
                    .PATCH, "\(path)/\(name)", body: try JSONSerialization.data(withJSONObject: ["observability": observability ?? NSNull()]),
                    contentType: "application/merge-patch+json")
            }
            // A managed environment's cloud access (the onboarding template's outputs) goes with it.
            func applyCloudAccess(_ current: CloudAccess?) async throws -> Bool {
                guard let access = document["cloudAccess"] else { return false }
                let data = try JSONSerialization.data(withJSONObject: access)
                if let current, (try? StrictJSON.decode(CloudAccess.self, from: data)) == current { return false }
                _ = try await client.send(.PUT, "\(path)/\(name)/cloud-access", body: data)
                return true
            }
            do {
                _ = try await client.send(.POST, path, body: try json(["name", "cloud", "mode", "namespace", "registry"]))
                _ = try await applyCloudAccess(nil)
                if observability != nil && !(observability is NSNull) { try await patchObservability() }
                return "environment/\(tenant)/\(name) created"
            } catch let error as CLIError where error.status == 409 {
                let current = try await client.get("\(path)/\(name)", as: Environment.self)
                if let cloud = document["cloud"] as? String, cloud != current.cloud.rawValue {
                    throw CLIError(message: "environment/\(tenant)/\(name): cloud is \(current.cloud.rawValue) and cannot change", exitCode: 1)
                }
                if let mode = document["mode"] as? String, mode != current.mode.rawValue {
                    throw CLIError(message: "environment/\(tenant)/\(name): mode is \(current.mode.rawValue) and cannot change", exitCode: 1)
                }
                var patch: [String: Any] = [:]
                let namespace = document["namespace"] as? String ?? "qbeast"
                if namespace != current.namespace { patch["namespace"] = namespace }
                let registry = document["registry"] as? String
                if registry != current.registry { patch["registry"] = registry ?? NSNull() }
                if let observability, !(observability is NSNull) || current.observability != nil {
                    let wanted = try? StrictJSON.decoder().decode(
                        ObservabilitySpec.self, from: JSONSerialization.data(withJSONObject: observability, options: [.fragmentsAllowed]))
                    // Sent when it differs, or when it does not decode (the controller then says why).
                    let enabledSpec = wanted.flatMap { $0.enabled ? $0 : nil }
                    if (wanted == nil && !(observability is NSNull)) || enabledSpec != current.observability {
                        patch["observability"] = observability
                    }
                }
                let accessChanged = try await applyCloudAccess(current.cloudAccess)
                if patch.isEmpty { return "environment/\(tenant)/\(name) \(accessChanged ? "configured" : "unchanged")" }
                _ = try await client.send(
                    .PATCH, "\(path)/\(name)", body: try JSONSerialization.data(withJSONObject: patch),
                    contentType: "application/merge-patch+json")
                return "environment/\(tenant)/\(name) configured"
            }
        case "Workspace":
            let tenant = try checked(try string("tenant")), environment = try checked(try string("environment"))
            let name = try checked(try string("name"))
            let path = "/v1/tenants/\(tenant)/environments/\(environment)/workspaces/\(name)"
            let before = try? await client.get(path, as: Workspace.self)
            let data = try await client.send(.PUT, path, body: try JSONSerialization.data(withJSONObject: document))
            let after = try StrictJSON.decoder().decode(Workspace.self, from: data)
            let verb = before == nil ? "created" : before?.generation == after.generation ? "unchanged" : "configured"
            return "workspace/\(tenant)/\(environment)/\(name) \(verb) (generation \(after.generation))"
        case let kind:
            throw CLIError(message: "kind \(kind.map { "\"\($0)\"" } ?? "missing"): expected Tenant, Environment or Workspace", exitCode: 1)
        }
    }
}
