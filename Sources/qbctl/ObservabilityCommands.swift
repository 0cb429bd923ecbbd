import ArgumentParser
import Foundation
import SplitPlaneProtocol

extension EnvironmentCommand {
    /// `qbctl env observability acme prod --enable [--metrics-retention 30d …]` or `--disable`.
    struct Observability: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable, change or disable the environment's observability stack (VictoriaMetrics, VictoriaLogs, Grafana).",
            discussion: """
                The settings given replace the current ones as a whole (unset ones take their defaults).
                Example: qbctl env observability acme prod --enable --metrics-retention 90d --metrics-storage 50Gi
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Flag(help: "Install the stack (or change its settings).") var enable = false
        @Flag(help: "Remove the stack.") var disable = false
        @Option(help: "VictoriaMetrics retention, e.g. 30d (h, d, w or y). Default 30d.") var metricsRetention: String?
        @Option(help: "VictoriaLogs retention, e.g. 7d. Default 7d.") var logsRetention: String?
        @Option(help: "VictoriaMetrics volume size, e.g. 20Gi. Default 20Gi.") var metricsStorage: String?
        @Option(help: "VictoriaLogs volume size, e.g. 20Gi. Default 20Gi.") var logsStorage: String?
        @Option(help: "StorageClass of both volumes (default: the cluster's).") var storageClass: String?
        @Option(help: "OIDC issuer of the login. Default https://qbeast.eu.auth0.com/.") var issuer: String?
        @Option(help: "OAuth client id. Default qbeast-observability.") var clientId: String?
        @Option(help: "Secret in the namespace with keys client-secret and cookie-secret. Default qbeast-observability-oauth.")
        var clientSecretName: String?
        @Option(help: "E-mail domain allowed to log in; repeat for more. Default qbeast.io.") var allowedDomain: [String] = []

        func run() async throws {
            try await runCLI {
                guard enable != disable else { throw CLIError.usage("give exactly one of --enable or --disable") }
                let login =
                    [issuer, clientId, clientSecretName].allSatisfy({ $0 == nil }) && allowedDomain.isEmpty
                    ? nil
                    : ObservabilityLogin(
                        issuer: issuer, clientID: clientId, clientSecretName: clientSecretName,
                        allowedDomains: allowedDomain.isEmpty ? nil : allowedDomain)
                let spec = ObservabilitySpec(
                    enabled: true, metricsRetention: metricsRetention, logsRetention: logsRetention, metricsStorage: metricsStorage,
                    logsStorage: logsStorage, storageClass: storageClass, login: login)
                if enable {
                    do throws(SplitPlaneProtocol.ValidationError) { try spec.validate() } catch { throw CLIError.usage(error.description) }
                }
                let environment = try await connection.client().send(
                    .PATCH, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))",
                    json: EnvironmentPatch(observability: enable ? .set(spec) : .remove), as: Environment.self)
                try show(detailed: environment, connection.output)
            }
        }
    }

    /// `qbctl env request-support-access acme prod --reason "…"`: asks; only the customer grants.
    struct RequestSupportAccess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request-support-access",
            abstract: "Ask the customer for support access; the agent shows the request in their namespace. It grants nothing.",
            discussion: """
                The customer grants access on their side, in the agent's Helm values (supportAccess.enabled, supportAccess.until).
                --withdraw takes back an open request.
                Example: qbctl env request-support-access acme prod --reason "optimisation jobs failing since 10:00, ticket 4711"
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Option(help: "Why access is needed (one line, at most 500 characters); the customer reads it.") var reason: String?
        @Flag(help: "Withdraw the open request.") var withdraw = false

        func run() async throws {
            try await runCLI {
                let path = "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))/support-access-request"
                if withdraw {
                    if reason != nil { throw CLIError.usage("--reason and --withdraw exclude each other") }
                    try await connection.client().send(.DELETE, path, body: nil)
                    print("support access request for \(tenant)/\(name) withdrawn")
                    return
                }
                guard let reason else { throw CLIError.usage("--reason is required: say why access is needed") }
                let body = SupportAccessRequestBody(reason: reason)
                do throws(SplitPlaneProtocol.ValidationError) { try body.validate() } catch { throw CLIError.usage(error.description) }
                let environment = try await connection.client().send(.POST, path, json: body, as: Environment.self)
                try show(detailed: environment, connection.output)
                print(
                    "\nrequested; the customer grants it with: helm upgrade <release> qbeast-agent --reuse-values "
                        + "--set supportAccess.enabled=true --set supportAccess.until=<RFC 3339 time>")
            }
        }
    }

    /// The lines `env get` adds for one environment: its stack and support access.
    static func observabilityLines(_ environment: Environment) -> [String] {
        var lines: [String] = []
        if let spec = environment.observability {
            lines.append(
                "Observability: enabled (metrics \(spec.effectiveMetricsRetention) on \(spec.effectiveMetricsStorage), "
                    + "logs \(spec.effectiveLogsRetention) on \(spec.effectiveLogsStorage), login \(spec.effectiveLogin.effectiveIssuer))")
        } else {
            lines.append("Observability: off")
        }
        if let access = environment.agent?.supportAccess {
            let until = access.until.map { " until \(Timestamp.format($0))" } ?? ""
            lines.append("Support access: \(access.state.rawValue)\(until); proxy \(access.proxyPresent ? "present" : "absent") (verified by the agent)")
            if let refused = access.refused { lines.append("Support access refused: \(refused)") }
        } else {
            lines.append("Support access: not reported by the agent")
        }
        if let request = environment.supportAccessRequest {
            let shown = environment.agent?.supportAccess?.request == request ? "shown to the customer" : "not yet shown to the customer"
            lines.append(
                "Support access requested by \(request.requestedBy) at \(Timestamp.format(request.requestedAt)) (\(shown)): \(request.reason)")
        }
        return lines
    }
}
