import ArgumentParser
import Controller
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol
import UnixSignals

@main
struct QbeastController: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbeast-controller",
        abstract: "The Qbeast control plane: operator API, agent gateway, alert intake.",
        version: BuildVersion.current,
        subcommands: [Serve.self, Onboarding.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the controller until SIGINT/SIGTERM.",
        discussion: """
            Every option can also be set as a QBEAST_… environment variable (e.g. --operator-listen as \
            QBEAST_OPERATOR_LISTEN) or as a camelCase key in the --config YAML file (operatorListen). \
            Flags win over the environment, which wins over the file.
            """
    )

    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "Operator API listen address (HTTPS). Default 127.0.0.1:8443.") var operatorListen: String?
    @Option(help: "Agent gateway listen address (mutual TLS). Default 127.0.0.1:8444.") var agentListen: String?
    @Option(help: "Operations listen address (/metrics, /healthz, /readyz; plain HTTP). Default 127.0.0.1:9090.") var metricsListen: String?
    @Option(help: "PEM server certificate for both TLS listeners.") var tlsCert: String?
    @Option(help: "PEM private key of the server certificate.") var tlsKey: String?
    @Option(help: "PEM CA bundle that agent client certificates must chain to.") var clientCA: String?
    @Option(help: "SPIFFE trust domain of agent identities. Default qbeast.dev.") var trustDomain: String?
    @Option(help: "Data directory (holds controller.sqlite). Default ./.data/controller.") var dataDir: String?
    @Option(
        help:
            "SQLite database file, or a PostgreSQL URL postgres://user:password@host:port/database?sslmode=disable (several replicas may share it). Default <data-dir>/controller.sqlite."
    ) var database: String?
    @Option(help: "File holding the operator admin token (one line). Or set QBEAST_ADMIN_TOKEN.") var adminTokenFile: String?
    @Option(help: "Longest a desired-state long poll is held. Default 30s.") var maxPollTimeout: String?
    @Option(help: "Agents per second asked to come back after a shutdown (Retry-After spread). Default 1000.") var reconnectPace: String?
    @Option(help: "Largest accepted request body in bytes. Default 1048576.") var bodyLimit: String?
    @Option(help: "Enrollment listen address (TLS, no client certificate). Default 127.0.0.1:8445.") var enrollListen: String?
    @Option(help: "PEM certificate of the CA that issues agent certificates (enables enrollment and renewal).") var caCert: String?
    @Option(help: "PEM private key of that CA (a file or mounted secret; never logged).") var caKey: String?
    @Option(help: "Lifetime of issued agent certificates. Default 24h.") var agentCertLifetime: String?
    @Option(help: "Audience agents' projected service-account tokens must carry. Default qbeast-controller.") var enrollmentAudience: String?
    @Option(help: "AWS role of this control plane that customers' onboarding roles trust.") var onboardingAwsRoleArn: String?
    @Option(help: "OIDC issuer of this control plane (Azure federation, GCP workload identity).") var onboardingOidcIssuer: String?
    @Option(help: "File with the secret external IDs are derived from. Default: derived from the CA key.") var onboardingKeyFile: String?
    @Option(help: "Alert routing YAML (route tree, receivers, inhibit_rules). Reloaded on SIGHUP or POST /v1/routing-config/reload.") var routingConfig: String?
    @Option(help: "File holding the Slack app's signing secret; enables POST /slack/interactions. Or set QBEAST_SLACK_SIGNING_SECRET.")
    var slackSigningSecretFile: String?
    @Option(help: "Issuer of identity-provider JWTs accepted as bearer tokens (OIDC sign-in), e.g. https://login.example.com.") var oidcIssuer: String?
    @Option(help: "Audience those JWTs must carry (the client id registered for the controller).") var oidcAudience: String?
    @Option(help: "The provider's JWKS URL (jwks_uri). Fetched at start, hourly and on an unknown key.") var oidcJwksUrl: String?
    @Option(help: "A JWKS file instead of --oidc-jwks-url.") var oidcJwksFile: String?
    @Option(help: "Claim carrying groups or roles. Default groups.") var oidcRoleClaim: String?
    @Option(help: "Claim naming the caller in the audit log. Default email (falls back to sub).") var oidcNameClaim: String?
    @Option(
        help:
            "<claim value>=<role>[:<tenant>], e.g. qbeast-sre=admin, acme-analysts=viewer:acme. Repeatable; comma-separated in the environment/file. Without any, a claim value is read as the role itself."
    ) var oidcRole: [String] = []
    @Option(help: "helm binary chart components are rendered with (helm template). Default: helm on PATH; without one, chart components are refused.")
    var helmBinary: String?
    @Option(help: "Longest a helm template may run. Default 2m.") var helmTimeout: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default info.") var logLevel: String?
    @Option(help: "Longest a client may take to finish the TLS handshake, on every listener. Default 10s.") var tlsHandshakeTimeout: String?
    @Option(help: "Longest from a request's first byte to its complete head. Default 10s.") var requestHeadTimeout: String?
    @Option(help: "Longest from a request's head to the end of its body. Default 60s.") var requestBodyTimeout: String?
    @Option(help: "Longest a connection may stay open with no request in progress. Default 75s.") var idleTimeout: String?
    @Option(help: "Most connections open at once on the operator API. Default 1024.") var operatorMaxConnections: String?
    @Option(help: "Most connections open at once on the agent gateway. Default 65536.") var agentMaxConnections: String?
    @Option(help: "Most gateway connections one client certificate may hold. Default 16.") var agentMaxConnectionsPerCertificate: String?
    @Option(help: "Most connections open at once on the enrollment listener. Default 256.") var enrollMaxConnections: String?
    @Option(help: "Most alerts in one batch from an agent. Default 1000.") var alertMaxPerBatch: String?
    @Option(help: "Most labels on one alert. Default 64.") var alertMaxLabels: String?
    @Option(help: "Longest label or annotation name, bytes. Default 128.") var alertMaxNameLength: String?
    @Option(help: "Longest label value, bytes. Default 2048.") var alertMaxLabelValueLength: String?
    @Option(help: "Most annotations on one alert. Default 32.") var alertMaxAnnotations: String?
    @Option(help: "Longest annotation value, bytes. Default 8192.") var alertMaxAnnotationLength: String?
    @Option(help: "Largest alert (all label and annotation names and values), bytes. Default 32768.") var alertMaxSize: String?
    @Option(
        help:
            "Managed environments: kubeconfig of the Crossplane cluster, or \"in-cluster\" for this pod's service account. Without it managed environments are stored but not provisioned."
    ) var crossplaneKubeconfig: String?
    @Option(help: "Namespace per tenant on the Crossplane cluster: <prefix><tenant>. Default qbeast-.") var crossplaneNamespacePrefix: String?
    @Option(help: "How often managed environments are looked at again. Default 30s.") var crossplaneResync: String?
    @Option(help: "Agent chart repository Crossplane installs from (https:// or oci://). Default oci://ghcr.io/qbeast/charts.")
    var managedAgentChartRepository: String?
    @Option(help: "Agent chart version Crossplane installs. Default: this controller's version.") var managedAgentChartVersion: String?
    @Option(help: "Agent gateway URL the installed agent uses (https://). Required with --crossplane-kubeconfig.") var managedAgentControllerUrl: String?
    @Option(help: "Enrollment URL the installed agent uses (https://). Required with --crossplane-kubeconfig.") var managedAgentEnrollUrl: String?
    @Option(help: "PEM CA bundle the installed agent trusts the controller with. Default: --client-ca.") var managedAgentCaBundle: String?

    /// Every flag by its configuration key; `ControllerConfiguration.resolve` does the rest.
    var flags: [String: String?] {
        [
            "operatorListen": operatorListen, "agentListen": agentListen, "metricsListen": metricsListen, "tlsCert": tlsCert, "tlsKey": tlsKey,
            "clientCA": clientCA, "trustDomain": trustDomain, "dataDir": dataDir, "database": database, "adminTokenFile": adminTokenFile,
            "maxPollTimeout": maxPollTimeout, "reconnectPace": reconnectPace, "bodyLimit": bodyLimit, "enrollListen": enrollListen, "caCert": caCert,
            "caKey": caKey,
            "agentCertLifetime": agentCertLifetime, "enrollmentAudience": enrollmentAudience, "onboardingAwsRoleArn": onboardingAwsRoleArn,
            "onboardingOidcIssuer": onboardingOidcIssuer, "onboardingKeyFile": onboardingKeyFile, "routingConfig": routingConfig,
            "slackSigningSecretFile": slackSigningSecretFile, "oidcIssuer": oidcIssuer, "oidcAudience": oidcAudience, "oidcJwksUrl": oidcJwksUrl,
            "oidcJwksFile": oidcJwksFile, "oidcRoleClaim": oidcRoleClaim, "oidcNameClaim": oidcNameClaim, "helmBinary": helmBinary,
            "helmTimeout": helmTimeout, "tlsHandshakeTimeout": tlsHandshakeTimeout, "requestHeadTimeout": requestHeadTimeout,
            "requestBodyTimeout": requestBodyTimeout, "idleTimeout": idleTimeout, "operatorMaxConnections": operatorMaxConnections,
            "agentMaxConnections": agentMaxConnections, "agentMaxConnectionsPerCertificate": agentMaxConnectionsPerCertificate,
            "enrollMaxConnections": enrollMaxConnections, "alertMaxPerBatch": alertMaxPerBatch, "alertMaxLabels": alertMaxLabels,
            "alertMaxNameLength": alertMaxNameLength, "alertMaxLabelValueLength": alertMaxLabelValueLength,
            "alertMaxAnnotations": alertMaxAnnotations, "alertMaxAnnotationLength": alertMaxAnnotationLength, "alertMaxSize": alertMaxSize,
            "crossplaneKubeconfig": crossplaneKubeconfig, "crossplaneNamespacePrefix": crossplaneNamespacePrefix,
            "crossplaneResync": crossplaneResync, "managedAgentChartRepository": managedAgentChartRepository,
            "managedAgentChartVersion": managedAgentChartVersion, "managedAgentControllerUrl": managedAgentControllerUrl,
            "managedAgentEnrollUrl": managedAgentEnrollUrl, "managedAgentCaBundle": managedAgentCaBundle,
        ]
    }

    func run() async throws {
        let layers = try LayeredConfiguration.load(file: config)
        let level = Logger.Level(rawValue: layers.string(logLevel, key: "logLevel") ?? "info") ?? .info
        JSONLogHandler.bootstrap(level: level)
        let logger = Logger(label: "qbeast-controller")
        do {
            let flags = self.flags
            let configuration = try ControllerConfiguration.resolve(
                { key in layers.string(flags[key] ?? nil, key: key) },
                list: { key in key == "oidcRole" ? oidcRole : [] })
            let registry = OperationsEndpoints.bootstrapMetrics()
            let opened = try OpenedStore.open(configuration.databasePath, logger: logger)
            let server = try ControllerServer(configuration: configuration, store: opened.store, logger: logger)
            try await server.oidc?.load()
            let group = ServiceGroup(
                configuration: .bounded(
                    opened.services + (try server.services(metricsRegistry: registry)) + [ReloadOnHangup(dispatcher: server.dispatcher, logger: logger)],
                    signals: [.sigterm, .sigint], limit: .seconds(20), logger: logger))
            logger.info(
                "controller starting",
                metadata: [
                    "operatorListen": "\(configuration.operatorListen)", "agentListen": "\(configuration.agentListen)",
                    "metricsListen": "\(configuration.metricsListen)", "database": "\(opened.description)",
                    "trustDomain": "\(configuration.trustDomain)",
                    "helm": "\(server.resolver.helm.binary ?? "none: chart components are refused")",
                ])
            try await group.run()
            await opened.close()
            logger.info("controller stopped")
        } catch {
            logger.critical("controller failed to start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

/// SIGHUP reloads the routing configuration, as it does for Alertmanager; a bad file is logged and the
/// running configuration stays.
struct ReloadOnHangup: Service {
    let dispatcher: AlertDispatcher
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                _ = try await dispatcher.reload()
            } catch {
                logger.error("routing configuration refused; the running one stays", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Renders an onboarding template without a running controller (what `make test` checks with the
/// clouds' own linters).
struct Onboarding: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an environment's onboarding template (aws: CloudFormation, azure: Bicep, gcp: Terraform).")

    @Option var cloud: Cloud
    @Option var tenant: String
    @Option var environment: String
    @Option var mode: EnvironmentMode = .provided
    @Option(name: .customLong("param"), help: "Template parameter name=value (cluster, bucketPrefix, storageAccount, project, ...). Repeatable.")
    var parameters: [String] = []
    @Option var awsRoleArn = "arn:aws:iam::111122223333:role/qbeast-control-plane"
    @Option var oidcIssuer = "https://oidc.qbeast.io"

    func run() async throws {
        guard ResourceName.isValid(tenant), ResourceName.isValid(environment) else { throw ValidationError("tenant and environment must be DNS-1123 labels") }
        var values: [String: String] = [:]
        for parameter in parameters {
            let parts = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--param expects name=value, got \(parameter)") }
            values[parts[0]] = parts[1]
        }
        do { try OnboardingContext.validate(values) } catch { throw ValidationError(error.description) }
        let settings = OnboardingSettings(controlPlaneRoleARN: awsRoleArn, oidcIssuer: oidcIssuer, externalIDKey: Data("offline-render".utf8))
        let context = settings.context(
            for: SplitPlaneProtocol.Environment(
                tenant: tenant, name: environment, cloud: cloud, mode: mode, desiredRevision: 0,
                createdAt: Date()), parameters: values)
        print(OnboardingTemplates.render(cloud: cloud, context: context).body, terminator: "")
    }
}

extension Cloud: ExpressibleByArgument {}
extension EnvironmentMode: ExpressibleByArgument {}
