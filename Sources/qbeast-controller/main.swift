import ArgumentParser
import Controller
import SplitPlaneProtocol
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import ServiceSupport
import SplitPlaneTLS

@main
struct QbeastController: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbeast-controller",
        abstract: "The Qbeast control plane: operator API, agent gateway, alert intake.",
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
    @Option(help: "SQLite database file, or a PostgreSQL URL postgres://user:password@host:port/database?sslmode=disable (several replicas may share it). Default <data-dir>/controller.sqlite.") var database: String?
    @Option(help: "File holding the operator admin token (one line). Or set QBEAST_ADMIN_TOKEN.") var adminTokenFile: String?
    @Option(help: "Longest a desired-state long poll is held. Default 30s.") var maxPollTimeout: String?
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
    @Option(help: "File holding the Slack app's signing secret; enables POST /slack/interactions. Or set QBEAST_SLACK_SIGNING_SECRET.") var slackSigningSecretFile: String?
    @Option(help: "Issuer of identity-provider JWTs accepted as bearer tokens (OIDC sign-in), e.g. https://login.example.com.") var oidcIssuer: String?
    @Option(help: "Audience those JWTs must carry (the client id registered for the controller).") var oidcAudience: String?
    @Option(help: "The provider's JWKS URL (jwks_uri). Fetched at start, hourly and on an unknown key.") var oidcJwksUrl: String?
    @Option(help: "A JWKS file instead of --oidc-jwks-url.") var oidcJwksFile: String?
    @Option(help: "Claim carrying groups or roles. Default groups.") var oidcRoleClaim: String?
    @Option(help: "Claim naming the caller in the audit log. Default email (falls back to sub).") var oidcNameClaim: String?
    @Option(help: "<claim value>=<role>[:<tenant>], e.g. qbeast-sre=admin, acme-analysts=viewer:acme. Repeatable; comma-separated in the environment/file. Without any, a claim value is read as the role itself.") var oidcRole: [String] = []
    @Option(help: "helm binary chart components are rendered with (helm template). Default: helm on PATH; without one, chart components are refused.") var helmBinary: String?
    @Option(help: "Longest a helm template may run. Default 2m.") var helmTimeout: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default info.") var logLevel: String?

    func run() async throws {
        let layers = try LayeredConfiguration.load(file: config)
        let level = Logger.Level(rawValue: layers.string(logLevel, key: "logLevel") ?? "info") ?? .info
        JSONLogHandler.bootstrap(level: level)
        let logger = Logger(label: "qbeast-controller")
        do {
            let configuration = try Self.resolve(self, layers)
            let registry = OperationsEndpoints.bootstrapMetrics()
            let opened = try await OpenedStore.open(configuration.databasePath, logger: logger)
            let server = try ControllerServer(configuration: configuration, store: opened.store, logger: logger)
            try await server.oidc?.load()
            let group = ServiceGroup(configuration: .bounded(
                try server.services(metricsRegistry: registry) + [ReloadOnHangup(dispatcher: server.dispatcher, logger: logger)],
                signals: [.sigterm, .sigint], limit: .seconds(20), logger: logger))
            logger.info("controller starting", metadata: [
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

    static func resolve(_ flags: Serve, _ layers: LayeredConfiguration) throws -> ControllerConfiguration {
        func address(_ flag: String?, _ key: String, _ fallback: String) throws -> ListenAddress {
            let text = layers.string(flag, key: key) ?? fallback
            guard let address = ListenAddress(text) else { throw ConfigurationError(setting: key, reason: "\"\(text)\" is not host:port") }
            return address
        }
        func required(_ flag: String?, _ key: String) throws -> String {
            guard let value = layers.string(flag, key: key) else {
                throw ConfigurationError(setting: key, reason: "required (flag --\(kebab(key)) or \(LayeredConfiguration.environmentName(key)))")
            }
            return value
        }
        let dataDir = layers.string(flags.dataDir, key: "dataDir") ?? ".data/controller"
        var tokens: [String] = []
        if let file = layers.string(flags.adminTokenFile, key: "adminTokenFile") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError(setting: "adminTokenFile", reason: "cannot read \(file)")
            }
            tokens.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let token = layers.string(nil, key: "adminToken") { tokens.append(token) }
        tokens = tokens.filter { !$0.isEmpty }
        guard !tokens.isEmpty else {
            throw ConfigurationError(setting: "adminToken", reason: "no operator token configured: use --admin-token-file or QBEAST_ADMIN_TOKEN")
        }
        if let short = tokens.first(where: { $0.count < 16 }) {
            throw ConfigurationError(setting: "adminToken", reason: "tokens must be at least 16 characters (got \(short.count))")
        }
        let database = layers.string(flags.database, key: "database") ?? "\(dataDir)/controller.sqlite"
        if PostgresURL.isPostgres(database) {
            do { _ = try PostgresURL(database) } catch { throw ConfigurationError(setting: "database", reason: error.description) }
        }
        var configuration = ControllerConfiguration(
            tls: TLSFiles(certificate: try required(flags.tlsCert, "tlsCert"), privateKey: try required(flags.tlsKey, "tlsKey"),
                          trustBundle: try required(flags.clientCA, "clientCA")),
            databasePath: database,
            adminTokens: tokens
        )
        configuration.operatorListen = try address(flags.operatorListen, "operatorListen", "127.0.0.1:8443")
        configuration.agentListen = try address(flags.agentListen, "agentListen", "127.0.0.1:8444")
        configuration.metricsListen = try address(flags.metricsListen, "metricsListen", "127.0.0.1:9090")
        configuration.trustDomain = layers.string(flags.trustDomain, key: "trustDomain") ?? "qbeast.dev"
        do {
            _ = try SPIFFEIdentity.parse("spiffe://\(configuration.trustDomain)/tenant/t/environment/e")
        } catch {
            throw ConfigurationError(setting: "trustDomain", reason: "\"\(configuration.trustDomain)\" is not a SPIFFE trust domain: it \(error.reason)")
        }
        if let text = layers.string(flags.maxPollTimeout, key: "maxPollTimeout") {
            guard let duration = parseDuration(text) else { throw ConfigurationError(setting: "maxPollTimeout", reason: "\"\(text)\" is not a duration") }
            configuration.maxPollTimeout = duration
        }
        if let text = layers.string(flags.bodyLimit, key: "bodyLimit") {
            guard let limit = Int(text), limit >= 1024 else { throw ConfigurationError(setting: "bodyLimit", reason: "must be a number of bytes ≥ 1024") }
            configuration.bodyLimit = limit
        }
        configuration.enrollListen = try address(flags.enrollListen, "enrollListen", "127.0.0.1:8445")
        switch (layers.string(flags.caCert, key: "caCert"), layers.string(flags.caKey, key: "caKey")) {
        case (let certificate?, let key?): configuration.issuingCA = (certificate, key)
        case (nil, nil): break
        default: throw ConfigurationError(setting: "caKey", reason: "--ca-cert and --ca-key go together")
        }
        if let text = layers.string(flags.agentCertLifetime, key: "agentCertLifetime") {
            guard let duration = parseDuration(text), duration >= .seconds(300) else {
                throw ConfigurationError(setting: "agentCertLifetime", reason: "\"\(text)\" is not a duration of at least 5m")
            }
            configuration.agentCertificateLifetime = Double(duration.components.seconds)
        }
        configuration.enrollmentAudience = layers.string(flags.enrollmentAudience, key: "enrollmentAudience") ?? "qbeast-controller"
        if let arn = layers.string(flags.onboardingAwsRoleArn, key: "onboardingAwsRoleArn") { configuration.onboarding.controlPlaneRoleARN = arn }
        if let issuer = layers.string(flags.onboardingOidcIssuer, key: "onboardingOidcIssuer") { configuration.onboarding.oidcIssuer = issuer }
        // External IDs must not be guessable: derived from a secret the controller already holds.
        let keySource = layers.string(flags.onboardingKeyFile, key: "onboardingKeyFile") ?? configuration.issuingCA?.privateKey
        if let keySource {
            guard let secret = FileManager.default.contents(atPath: keySource) else {
                throw ConfigurationError(setting: "onboardingKeyFile", reason: "cannot read \(keySource)")
            }
            configuration.onboarding.externalIDKey = Data(SHA256.hash(data: secret))
        } else {
            configuration.onboarding.externalIDKey = Data(SHA256.hash(data: Data(tokens[0].utf8)))
        }
        configuration.routingConfigPath = layers.string(flags.routingConfig, key: "routingConfig")
        configuration.oidc = try oidc(flags, layers)
        if let file = layers.string(flags.slackSigningSecretFile, key: "slackSigningSecretFile") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError(setting: "slackSigningSecretFile", reason: "cannot read \(file)")
            }
            configuration.slackSigningSecret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let secret = layers.string(nil, key: "slackSigningSecret") {
            configuration.slackSigningSecret = secret
        }
        if let helm = layers.string(flags.helmBinary, key: "helmBinary") {
            guard FileManager.default.isExecutableFile(atPath: helm) else {
                throw ConfigurationError(setting: "helmBinary", reason: "\(helm) is not an executable file")
            }
            configuration.helmBinary = helm
        }
        if let text = layers.string(flags.helmTimeout, key: "helmTimeout") {
            guard let duration = parseDuration(text), duration >= .seconds(1) else {
                throw ConfigurationError(setting: "helmTimeout", reason: "\"\(text)\" is not a duration of at least 1s")
            }
            configuration.helmTimeout = duration
        }
        return configuration
    }

    static func oidc(_ flags: Serve, _ layers: LayeredConfiguration) throws -> OIDCSettings? {
        guard let issuer = layers.string(flags.oidcIssuer, key: "oidcIssuer") else { return nil }
        guard let audience = layers.string(flags.oidcAudience, key: "oidcAudience") else {
            throw ConfigurationError(setting: "oidcAudience", reason: "required with --oidc-issuer")
        }
        let keys: OIDCSettings.KeySource
        switch (layers.string(flags.oidcJwksUrl, key: "oidcJwksUrl"), layers.string(flags.oidcJwksFile, key: "oidcJwksFile")) {
        case (let url?, nil):
            guard url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") else {
                throw ConfigurationError(setting: "oidcJwksUrl", reason: "must be https:// (plain http only on loopback)")
            }
            keys = .url(url)
        case (nil, let file?): keys = .file(file)
        default: throw ConfigurationError(setting: "oidcJwksUrl", reason: "give exactly one of --oidc-jwks-url or --oidc-jwks-file with --oidc-issuer")
        }
        var settings = OIDCSettings(issuer: issuer, audience: audience, keys: keys)
        if let claim = layers.string(flags.oidcRoleClaim, key: "oidcRoleClaim") { settings.roleClaim = claim }
        if let claim = layers.string(flags.oidcNameClaim, key: "oidcNameClaim") { settings.nameClaim = claim }
        let mappings = flags.oidcRole.isEmpty
            ? (layers.string(nil, key: "oidcRole")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
            : flags.oidcRole
        do {
            settings.roleMappings = try mappings.map(OIDCSettings.RoleMapping.init(parsing:))
        } catch {
            throw ConfigurationError(setting: "oidcRole", reason: error.reason)
        }
        return settings
    }

    static func kebab(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result.append("-") }
            result.append(character.lowercased())
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
        let context = settings.context(for: SplitPlaneProtocol.Environment(tenant: tenant, name: environment, cloud: cloud, mode: mode, desiredRevision: 0,
                                                                           createdAt: Date()), parameters: values)
        print(OnboardingTemplates.render(cloud: cloud, context: context).body, terminator: "")
    }
}

extension Cloud: ExpressibleByArgument {}
extension EnvironmentMode: ExpressibleByArgument {}
