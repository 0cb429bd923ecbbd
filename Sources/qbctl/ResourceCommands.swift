import ArgumentParser
import Foundation
import SplitPlaneProtocol
import Yams

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (customer organisations).",
        subcommands: [Create.self, List.self, Get.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant.", discussion: "Example: qbctl tenant create acme --display-name 'ACME Corp'")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Tenant name (DNS-1123 label).") var name: String
        @Option(help: "Human-readable name.") var displayName: String?
        func run() async throws {
            try await runCLI {
                let tenant = try await connection.client().send(
                    .POST, "/v1/tenants", json: TenantRequest(name: name, displayName: displayName), as: Tenant.self)
                try show(tenants: [tenant], connection.output)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runCLI {
                let list = try await connection.client().get("/v1/tenants", as: ListResponse<Tenant>.self)
                try connection.output.isStructured ? Output.structured(list, connection.output) : show(tenants: list.items, .table)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                try show(tenants: [try await connection.client().get("/v1/tenants/\(try checked(name))", as: Tenant.self)], connection.output)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tenant that has no environments.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                try await connection.client().send(.DELETE, "/v1/tenants/\(try checked(name))", body: nil)
                print("tenant \(name) deleted")
            }
        }
    }

    static func show(tenants: [Tenant], _ format: OutputFormat) throws {
        if format.isStructured, tenants.count == 1 { return try Output.structured(tenants[0], format) }
        Output.table(["NAME", "DISPLAY NAME", "AGE"], tenants.map { [$0.name, $0.displayName ?? "-", Output.age($0.createdAt)] })
    }
}

struct EnvironmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Manage environments (one customer cluster each).",
        subcommands: [
            Create.self, List.self, Get.self, Patch.self, Delete.self, EnrollToken.self, Certificates.self,
            Revoke.self, TrustServiceAccount.self, Onboarding.self, Observability.self, RequestSupportAccess.self, SetCloudAccess.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an environment.",
            discussion: """
                Example: qbctl env create acme prod-eu --cloud aws --mode provided \\
                  --namespace qbeast --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Option(help: "Cloud: aws, azure or gcp.") var cloud: String
        @Option(help: "provided (a namespace in the customer's cluster) or managed.") var mode: String = "provided"
        @Option(help: "Namespace the customer installs the agent in. Default qbeast.") var namespace: String?
        @Option(help: ArgumentHelp("Pull-through proxy of GHCR that ghcr.io images are rewritten to.", discussion: registryHelp)) var registry: String?
        func run() async throws {
            try await runCLI {
                guard let cloud = Cloud(rawValue: cloud) else { throw CLIError.usage("--cloud must be aws, azure or gcp") }
                guard let mode = EnvironmentMode(rawValue: mode) else { throw CLIError.usage("--mode must be provided or managed") }
                let request = EnvironmentRequest(name: name, cloud: cloud, mode: mode, namespace: namespace, registry: registry)
                let environment = try await connection.client().send(
                    .POST, "/v1/tenants/\(try checked(tenant))/environments",
                    json: request, as: Environment.self)
                try show(environments: [environment], connection.output)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's environments, or every tenant's.",
            discussion: "--agent-outdated lists only environments whose agent this controller no longer (or not yet) supports.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Tenant; without it, every tenant you may see.") var tenant: String?
        @Flag(help: "Only environments whose agent version is outside what the controller supports.") var agentOutdated = false
        func run() async throws {
            try await runCLI {
                let base = try tenant.map { "/v1/tenants/\(try checked($0))/environments" } ?? "/v1/environments"
                let list = try await connection.client().get(base + (agentOutdated ? "?agentOutdated=true" : ""), as: ListResponse<Environment>.self)
                try connection.output.isStructured ? Output.structured(list, connection.output) : show(environments: list.items, .table)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one environment and its agent.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                let environment = try await connection.client().get(
                    "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))", as: Environment.self)
                try show(detailed: environment, connection.output)
            }
        }
    }

    struct Patch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an environment's registry or namespace; every workspace is resolved again (all or nothing).",
            discussion: "Example: qbctl env patch acme prod --registry europe-west1-docker.pkg.dev/acme-data/ghcr\n\n" + registryHelp)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Option(help: "New pull-through proxy of GHCR.") var registry: String?
        @Flag(help: "Remove the registry: images are left as given.") var noRegistry = false
        @Option(help: "New namespace of the agent.") var namespace: String?
        func run() async throws {
            try await runCLI {
                if registry != nil && noRegistry { throw CLIError.usage("--registry and --no-registry exclude each other") }
                let patch = EnvironmentPatch(registry: noRegistry ? .remove : registry.map { .set($0) }, namespace: namespace.map { .set($0) })
                guard patch.registry != nil || patch.namespace != nil else {
                    throw CLIError.usage("nothing to change: give --registry, --no-registry or --namespace")
                }
                let environment = try await connection.client().send(
                    .PATCH, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))",
                    json: patch, as: Environment.self)
                try show(environments: [environment], connection.output)
            }
        }
    }

    static let registryHelp = """
        Registry shapes: AWS <12-digit account>.dkr.ecr.<region>.amazonaws.com/<prefix> (ECR pull-through cache); \
        GCP <location>-docker.pkg.dev/<project>/<repository> (Artifact Registry remote repository); \
        Azure <registry-name>.azurecr.io/<prefix> (ACR cache rule).
        """

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an environment that has no workspaces; its agent is refused from then on.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Flag(help: "A managed environment: delete its cloud resources too (cluster, network, bucket per its deletion policy).")
        var confirmDeprovision = false
        func run() async throws {
            try await runCLI {
                let path = "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))" + (confirmDeprovision ? "?confirm=true" : "")
                let answer = try await connection.client().send(.DELETE, path, body: nil)
                print(EnvironmentCommand.deletedMessage("\(tenant)/\(name)", answer: answer))
            }
        }
    }

    /// A provided environment is gone at once; a managed one answers `202` with itself, deprovisioning.
    static func deletedMessage(_ name: String, answer: Data) -> String {
        if !answer.isEmpty, (try? StrictJSON.decoder().decode(Environment.self, from: answer))?.mode == .managed {
            return "environment \(name): deprovisioning; follow it with qbctl describe env"
        }
        return "environment \(name) deleted"
    }

    static func show(environments: [Environment], _ format: OutputFormat) throws {
        if format.isStructured, environments.count == 1 { return try Output.structured(environments[0], format) }
        Output.table(
            ["TENANT", "NAME", "CLOUD", "MODE", "NAMESPACE", "REGISTRY", "REVISION", "AGENT", "LAST SEEN"],
            environments.map {
                [
                    $0.tenant, $0.name, $0.cloud.rawValue, $0.mode.rawValue, $0.namespace, $0.registry ?? "-", String($0.desiredRevision),
                    agentColumn($0), Output.age($0.agentLastSeen),
                ]
            })
        // An environment shown alone also says why its agent is not supported.
        if environments.count == 1, let condition = environments[0].conditions?.first(where: { $0.type == "AgentVersionSupported" }),
            condition.status == .false
        {
            print("\n\(condition.reason): \(condition.message)")
        }
    }

    /// One environment with its observability stack and support access (`env get` and the commands that change them).
    static func show(detailed environment: Environment, _ format: OutputFormat) throws {
        try show(environments: [environment], format)
        if !format.isStructured { print("\n" + observabilityLines(environment).joined(separator: "\n")) }
    }

    /// The agent's version, marked when the controller does not support it.
    static func agentColumn(_ environment: Environment) -> String {
        guard let version = environment.agent?.version else { return "-" }
        switch environment.conditions?.first(where: { $0.type == "AgentVersionSupported" })?.reason {
        case "AgentOutdated"?: return "\(version) (outdated)"
        case "AgentNewer"?: return "\(version) (newer than controller)"
        case "UnknownVersion"?: return "\(version) (unknown)"
        default: return version
        }
    }
}

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace", abstract: "Manage workspaces and see what their agent reports.",
        subcommands: [Apply.self, List.self, Get.self, Delete.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a workspace from a YAML or JSON file.",
            discussion: """
                The file names the workspace and carries its spec:
                  apiVersion: qbeast.io/v1
                  kind: Workspace
                  tenant: acme
                  environment: prod-eu
                  name: analytics
                  spec:
                    components: [...]
                    ruleGroups: [...]
                Use -f - to read standard input.
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .shortAndLong, help: "File to apply (- for stdin).") var file: String
        func run() async throws {
            try await runCLI {
                let text = try readInput(file)
                let document: Any
                do {
                    guard let loaded = try Yams.load(yaml: text) else { throw CLIError.usage("\(file) is empty") }
                    document = loaded
                } catch let error as CLIError {
                    throw error
                } catch {
                    let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
                    throw CLIError(message: "\(file): not valid YAML or JSON: \(reason)", exitCode: 1)
                }
                guard let object = document as? [String: Any], JSONSerialization.isValidJSONObject(object) else {
                    throw CLIError(message: "\(file): expected a mapping with tenant, environment, name and spec", exitCode: 1)
                }
                guard let tenant = object["tenant"] as? String, let environment = object["environment"] as? String,
                    let name = object["name"] as? String
                else {
                    throw CLIError(message: "\(file): `tenant`, `environment` and `name` are required", exitCode: 1)
                }
                let body = try JSONSerialization.data(withJSONObject: object)
                let client = try connection.client()
                let data = try await client.send(
                    .PUT, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/workspaces/\(try checked(name))", body: body)
                let workspace = try StrictJSON.decoder().decode(Workspace.self, from: data)
                if connection.output.isStructured { return try Output.structured(workspace, connection.output) }
                print("workspace \(tenant)/\(environment)/\(name) applied (generation \(workspace.generation))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an environment's workspaces with their reported state.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        func run() async throws {
            try await runCLI {
                let list = try await connection.client().get(
                    "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/workspaces",
                    as: ListResponse<Workspace>.self)
                try connection.output.isStructured ? Output.structured(list, connection.output) : summary(list.items)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a workspace: generation, what the agent observed, conditions, components.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                let workspace = try await connection.client().get(
                    "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/workspaces/\(try checked(name))", as: Workspace.self)
                if connection.output.isStructured { return try Output.structured(workspace, connection.output) }
                describe(workspace)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a workspace; its agent is told at once.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                try await connection.client().send(
                    .DELETE, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/workspaces/\(try checked(name))", body: nil)
                print("workspace \(tenant)/\(environment)/\(name) deleted")
            }
        }
    }

    /// Generation, conditions, components and every object that is not ready.
    static func describe(_ workspace: Workspace) {
        summary([workspace])
        guard let status = workspace.status else {
            print("\nno status reported by the agent yet")
            return
        }
        print("\nCONDITIONS (reported \(Output.age(status.reportedAt)) ago)")
        Output.table(
            ["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"],
            status.conditions.map {
                [$0.type, $0.status.rawValue, $0.reason, Output.age($0.lastTransitionTime), $0.message]
            })
        if !status.components.isEmpty {
            print("\nCOMPONENTS")
            Output.table(
                ["NAME", "STATE", "APPLIED", "MESSAGE"],
                status.components.map {
                    [$0.name, $0.state, $0.appliedHash.map { String($0.dropFirst(7).prefix(12)) } ?? "-", $0.message ?? ""]
                })
            // Every object that is not ready, with the API server's words: what a support engineer acts on.
            let blocked = status.components.flatMap { component in
                (component.objects ?? []).filter { $0.state != "Ready" }.map { [component.name, "\($0.kind)/\($0.name)", $0.state, $0.message ?? ""] }
            }
            if !blocked.isEmpty {
                print("\nOBJECTS NOT READY")
                Output.table(["COMPONENT", "OBJECT", "STATE", "MESSAGE"], blocked)
            }
        }
    }

    static func summary(_ workspaces: [Workspace]) {
        Output.table(
            ["TENANT", "ENVIRONMENT", "NAME", "GENERATION", "OBSERVED", "ACCEPTED", "READY", "COMPONENTS", "RULES"],
            workspaces.map { workspace in
                let accepted = workspace.status?.conditions[type: "Accepted"]?.status.rawValue ?? "-"
                let ready = workspace.status?.conditions[type: "Ready"]?.status.rawValue ?? "-"
                return [
                    workspace.tenant, workspace.environment, workspace.name, String(workspace.generation),
                    workspace.status.map { String($0.observedGeneration) } ?? "-", accepted, ready,
                    String(workspace.spec.components.count), String(workspace.spec.ruleGroups.reduce(0) { $0 + $1.rules.count }),
                ]
            })
    }
}

/// Names go into URL paths: check them here so a typo gets a clear message, not a confusing 404.
func checked(_ name: String) throws -> String {
    guard ResourceName.isValid(name) else { throw CLIError.usage("\"\(name)\" is not a valid name (DNS-1123 label: lowercase letters, digits, '-')") }
    return name
}
