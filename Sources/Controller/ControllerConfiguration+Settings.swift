import Crypto
import Foundation
import PostgresDriver
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS

extension ControllerConfiguration {
    /// Builds the configuration from settings named by their camelCase key (`operatorListen`), already
    /// layered by the caller (flag over `QBEAST_…` environment over YAML file, `LayeredConfiguration`).
    /// `list` answers repeatable settings (`oidcRole`). Every refusal names the setting as written.
    public static func resolve(
        _ setting: @escaping (String) -> String?, list: (String) -> [String] = { _ in [] }
    ) throws(ConfigurationError) -> ControllerConfiguration {
        let reader = SettingsReader(setting: setting)
        let dataDir = setting("dataDir") ?? ".data/controller"
        var tokens: [String] = []
        if let file = setting("adminTokenFile") {
            tokens.append(try reader.fileContents(file, "adminTokenFile").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let token = setting("adminToken") { tokens.append(token) }
        tokens = tokens.filter { !$0.isEmpty }
        guard !tokens.isEmpty else {
            throw ConfigurationError(setting: "adminToken", reason: "no operator token configured: use --admin-token-file or QBEAST_ADMIN_TOKEN")
        }
        if let short = tokens.first(where: { $0.count < 16 }) {
            throw ConfigurationError(setting: "adminToken", reason: "tokens must be at least 16 characters (got \(short.count))")
        }
        let database = setting("database") ?? "\(dataDir)/controller.sqlite"
        if PostgresURL.isPostgres(database) {
            do { _ = try PostgresURL(database) } catch { throw ConfigurationError(setting: "database", reason: error.description) }
        }
        var configuration = ControllerConfiguration(
            tls: TLSFiles(
                certificate: try reader.required("tlsCert"), privateKey: try reader.required("tlsKey"),
                trustBundle: try reader.required("clientCA")),
            databasePath: database, adminTokens: tokens)
        configuration.operatorListen = try reader.address("operatorListen", configuration.operatorListen)
        configuration.agentListen = try reader.address("agentListen", configuration.agentListen)
        configuration.metricsListen = try reader.address("metricsListen", configuration.metricsListen)
        configuration.enrollListen = try reader.address("enrollListen", configuration.enrollListen)
        configuration.trustDomain = setting("trustDomain") ?? configuration.trustDomain
        do {
            _ = try SPIFFEIdentity.parse("spiffe://\(configuration.trustDomain)/tenant/t/environment/e")
        } catch {
            throw ConfigurationError(setting: "trustDomain", reason: "\"\(configuration.trustDomain)\" is not a SPIFFE trust domain: it \(error.reason)")
        }
        configuration.maxPollTimeout = try reader.duration("maxPollTimeout", configuration.maxPollTimeout)
        configuration.reconnectPace = try reader.integer("reconnectPace", configuration.reconnectPace, minimum: 1)
        configuration.bodyLimit = try reader.integer("bodyLimit", configuration.bodyLimit, minimum: 1024)
        switch (setting("caCert"), setting("caKey")) {
        case (let certificate?, let key?): configuration.issuingCA = (certificate, key)
        case (nil, nil): break
        default: throw ConfigurationError(setting: "caKey", reason: "--ca-cert and --ca-key go together")
        }
        configuration.agentCertificateLifetime = Double(
            try reader.duration(
                "agentCertLifetime", .seconds(Int64(configuration.agentCertificateLifetime)),
                minimum: .seconds(300)
            ).components.seconds)
        configuration.enrollmentAudience = setting("enrollmentAudience") ?? configuration.enrollmentAudience
        if let arn = setting("onboardingAwsRoleArn") { configuration.onboarding.controlPlaneRoleARN = arn }
        if let issuer = setting("onboardingOidcIssuer") { configuration.onboarding.oidcIssuer = issuer }
        // External IDs must not be guessable: derived from a secret the controller already holds.
        if let keySource = setting("onboardingKeyFile") ?? configuration.issuingCA?.privateKey {
            guard let secret = FileManager.default.contents(atPath: keySource) else {
                throw ConfigurationError(setting: "onboardingKeyFile", reason: "cannot read \(keySource)")
            }
            configuration.onboarding.externalIDKey = Data(SHA256.hash(data: secret))
        } else {
            configuration.onboarding.externalIDKey = Data(SHA256.hash(data: Data(tokens[0].utf8)))
        }
        configuration.routingConfigPath = setting("routingConfig")
        configuration.oidc = try oidc(setting, list: list)
        if let file = setting("slackSigningSecretFile") {
            configuration.slackSigningSecret = try reader.fileContents(file, "slackSigningSecretFile").trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let secret = setting("slackSigningSecret") {
            configuration.slackSigningSecret = secret
        }
        if let helm = setting("helmBinary") {
            guard FileManager.default.isExecutableFile(atPath: helm) else {
                throw ConfigurationError(setting: "helmBinary", reason: "\(helm) is not an executable file")
            }
            configuration.helmBinary = helm
        }
        configuration.helmTimeout = try reader.duration("helmTimeout", configuration.helmTimeout, minimum: .seconds(1))
        configuration.alertLimits = try alertLimits(reader)
        try connectionLimits(reader, into: &configuration)
        configuration.crossplane = try crossplane(setting, reader, configuration)
        return configuration
    }

    static func alertLimits(_ reader: SettingsReader) throws(ConfigurationError) -> AlertLimits {
        var limits = AlertLimits.default
        limits.maxAlertsPerBatch = try reader.integer("alertMaxPerBatch", limits.maxAlertsPerBatch, minimum: 1)
        limits.maxLabels = try reader.integer("alertMaxLabels", limits.maxLabels, minimum: 2)
        limits.maxLabelNameLength = try reader.integer("alertMaxNameLength", limits.maxLabelNameLength, minimum: 16)
        limits.maxLabelValueLength = try reader.integer("alertMaxLabelValueLength", limits.maxLabelValueLength, minimum: 64)
        limits.maxAnnotations = try reader.integer("alertMaxAnnotations", limits.maxAnnotations, minimum: 0)
        limits.maxAnnotationLength = try reader.integer("alertMaxAnnotationLength", limits.maxAnnotationLength, minimum: 64)
        limits.maxAlertSize = try reader.integer("alertMaxSize", limits.maxAlertSize, minimum: 1024)
        return limits
    }

    static func connectionLimits(_ reader: SettingsReader, into configuration: inout ControllerConfiguration) throws(ConfigurationError) {
        let handshake = try reader.duration("tlsHandshakeTimeout", configuration.agentLimits.handshakeTimeout, minimum: .seconds(1))
        let head = try reader.duration("requestHeadTimeout", configuration.agentLimits.requestHeadTimeout, minimum: .seconds(1))
        let body = try reader.duration("requestBodyTimeout", configuration.agentLimits.requestBodyTimeout, minimum: .seconds(1))
        let idle = try reader.duration("idleTimeout", configuration.agentLimits.idleTimeout, minimum: .seconds(1))
        for limits in [\ControllerConfiguration.operatorLimits, \.agentLimits, \.enrollLimits] {
            configuration[keyPath: limits].handshakeTimeout = handshake
            configuration[keyPath: limits].requestHeadTimeout = head
            configuration[keyPath: limits].requestBodyTimeout = body
            configuration[keyPath: limits].idleTimeout = idle
        }
        configuration.operatorLimits.maxConnections = try reader.integer("operatorMaxConnections", configuration.operatorLimits.maxConnections, minimum: 1)
        configuration.agentLimits.maxConnections = try reader.integer("agentMaxConnections", configuration.agentLimits.maxConnections, minimum: 1)
        configuration.agentLimits.maxConnectionsPerCertificate = try reader.integer(
            "agentMaxConnectionsPerCertificate", configuration.agentLimits.maxConnectionsPerCertificate ?? 16, minimum: 1)
        configuration.enrollLimits.maxConnections = try reader.integer("enrollMaxConnections", configuration.enrollLimits.maxConnections, minimum: 1)
    }

    static func oidc(_ setting: (String) -> String?, list: (String) -> [String]) throws(ConfigurationError) -> OIDCSettings? {
        guard let issuer = setting("oidcIssuer") else { return nil }
        guard let audience = setting("oidcAudience") else {
            throw ConfigurationError(setting: "oidcAudience", reason: "required with --oidc-issuer")
        }
        let keys: OIDCSettings.KeySource
        switch (setting("oidcJwksUrl"), setting("oidcJwksFile")) {
        case (let url?, nil):
            guard url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") else {
                throw ConfigurationError(setting: "oidcJwksUrl", reason: "must be https:// (plain http only on loopback)")
            }
            keys = .url(url)
        case (nil, let file?): keys = .file(file)
        default: throw ConfigurationError(setting: "oidcJwksUrl", reason: "give exactly one of --oidc-jwks-url or --oidc-jwks-file with --oidc-issuer")
        }
        var settings = OIDCSettings(issuer: issuer, audience: audience, keys: keys)
        if let claim = setting("oidcRoleClaim") { settings.roleClaim = claim }
        if let claim = setting("oidcNameClaim") { settings.nameClaim = claim }
        var mappings = list("oidcRole")
        if mappings.isEmpty {
            mappings = setting("oidcRole")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        }
        do {
            settings.roleMappings = try mappings.map(OIDCSettings.RoleMapping.init(parsing:))
        } catch {
            throw ConfigurationError(setting: "oidcRole", reason: error.reason)
        }
        return settings
    }
}
