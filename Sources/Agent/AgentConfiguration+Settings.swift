import Foundation
import KubernetesAPI
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS

/// `qbeast-agent run`'s settings resolved: the configuration, and how the agent gets its identity
/// (certificate files given, or enrollment) before it starts.
public struct AgentStartup: Sendable {
    public var configuration: AgentConfiguration
    /// `--tls-cert` and `--tls-key`, when given (else the state directory's, or enrollment).
    public var configuredTLS: TLSFiles?
    public var enrollment: EnrollmentSettings?
    public var trustDomain: String

    /// Reads settings by camelCase key, already layered by the caller (flag over `QBEAST_…` environment
    /// over YAML file); every refusal names the setting. `environment` decides whether the agent runs
    /// in a pod (`KUBERNETES_SERVICE_HOST`).
    public static func resolve(
        _ setting: @escaping (String) -> String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AgentStartup {
        let reader = SettingsReader(setting: setting)
        func positive(_ key: String, _ fallback: Duration) throws(ConfigurationError) -> Duration {
            let value = try reader.duration(key, fallback)
            guard value > .zero else { throw ConfigurationError(setting: key, reason: "\"\(setting(key) ?? "")\" is not a positive duration") }
            return value
        }
        // One URL, or a comma-separated list (one per controller replica) the agent fails over along.
        let urls = try reader.required("controllerUrl").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw ConfigurationError(setting: "controllerUrl", reason: "no URL given") }
        for url in urls where !url.hasPrefix("https://") {
            throw ConfigurationError(setting: "controllerUrl", reason: "\"\(url)\" must be an https:// URL")
        }
        // The certificate comes later (configured files, the state directory, or enrollment); the CA
        // bundle is what the controller is trusted with until then.
        let caBundle = try reader.required("caBundle")
        var configuration = AgentConfiguration(
            controllerURLs: urls, tls: TLSFiles(certificate: "", privateKey: "", trustBundle: caBundle),
            stateDirectory: setting("stateDir") ?? ".data/agent")
        configuration.metricsListen = try reader.address("metricsListen", configuration.metricsListen)
        configuration.pollTimeout = try positive("pollTimeout", configuration.pollTimeout)
        configuration.heartbeatInterval = try positive("heartbeatInterval", configuration.heartbeatInterval)
        if let url = setting("metricsStoreUrl") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError(setting: "metricsStoreUrl", reason: "must be an http(s):// URL")
            }
            configuration.metricsStoreURL = url
        }
        configuration.metricsStoreStep = try positive("metricsStoreStep", configuration.metricsStoreStep)
        configuration.defaultEvaluationInterval = try positive("evaluationInterval", configuration.defaultEvaluationInterval)
        configuration.ruleResendDelay = try positive("ruleResendDelay", configuration.ruleResendDelay)
        let namespace = setting("namespace")
        if let namespace, !ResourceName.isValid(namespace) {
            throw ConfigurationError(setting: "namespace", reason: "\"\(namespace)\" is not a DNS-1123 label")
        }
        if let path = setting("kubeconfig") {
            configuration.kubernetes = try KubernetesConnection.kubeconfig(path: path, context: setting("kubeContext"), namespace: namespace)
        } else if environment["KUBERNETES_SERVICE_HOST"] != nil {
            configuration.kubernetes = try KubernetesConnection.inCluster(environment: environment, namespace: namespace)
        }
        configuration.install.driftInterval = try positive("driftInterval", configuration.install.driftInterval)
        configuration.installInterval = try positive("installInterval", configuration.installInterval)
        configuration.outboxMaxBatches = try reader.integer("outboxMaxBatches", configuration.outboxMaxBatches, minimum: 1)
        if let path = setting("boundaryFile") { configuration.boundary = try DataBoundary.load(path: path) }
        configuration.proxy = try OutboundProxy.fromEnvironment(environment)
        if let name = setting("deploymentName") {
            guard ResourceName.isValid(name) || name.count <= 253 && name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }) else {
                throw ConfigurationError(setting: "deploymentName", reason: "\"\(name)\" is not a Kubernetes object name")
            }
            configuration.eventsRegarding = KubernetesEvent.Regarding(apiVersion: "apps/v1", kind: "Deployment", name: name)
        } else if let pod = environment["HOSTNAME"] {
            configuration.eventsRegarding = KubernetesEvent.Regarding(apiVersion: "v1", kind: "Pod", name: pod)
        }
        let journalBodies: Bool
        switch setting("egressJournalBodies")?.lowercased() {
        case nil, "false": journalBodies = false
        case "true": journalBodies = true
        case let other?: throw ConfigurationError(setting: "egressJournalBodies", reason: "\"\(other)\" is not true or false")
        }
        configuration.egressJournal = EgressJournalSettings(
            includeBodies: journalBodies,
            maxFileBytes: try reader.integer("egressJournalMaxBytes", configuration.egressJournal.maxFileBytes, minimum: 4096))
        configuration.supportAccess = try supportAccess(setting)

        let configuredTLS: TLSFiles?
        switch (setting("tlsCert"), setting("tlsKey")) {
        case (let certificate?, let key?): configuredTLS = TLSFiles(certificate: certificate, privateKey: key, trustBundle: caBundle)
        case (nil, nil): configuredTLS = nil
        default: throw ConfigurationError(setting: "tlsKey", reason: "--tls-cert and --tls-key go together")
        }
        let trustDomain = setting("trustDomain") ?? "qbeast.dev"
        do {
            _ = try SPIFFEIdentity.parse("spiffe://\(trustDomain)/tenant/t/environment/e")
        } catch {
            throw ConfigurationError(setting: "trustDomain", reason: "\"\(trustDomain)\" is not a SPIFFE trust domain: it \(error.reason)")
        }
        return AgentStartup(
            configuration: configuration, configuredTLS: configuredTLS, enrollment: try enrollment(setting),
            trustDomain: trustDomain)
    }

    /// `supportAccess` (`true`/`false`) and `supportAccessUntil` (RFC 3339): a grant always has an end.
    static func supportAccess(_ setting: (String) -> String?) throws(ConfigurationError) -> SupportAccessGrant {
        let until = try setting("supportAccessUntil").map { text throws(ConfigurationError) in
            guard let date = Timestamp.parse(text) else {
                throw ConfigurationError(setting: "supportAccessUntil", reason: "\"\(text)\" is not an RFC 3339 time such as 2026-12-05T18:00:00Z")
            }
            return date
        }
        switch setting("supportAccess") {
        case nil, "false"?: return SupportAccessGrant(enabled: false, until: until)
        case "true"?:
            guard let until else {
                throw ConfigurationError(
                    setting: "supportAccessUntil", reason: "required when support access is enabled: a grant must end (e.g. 2026-12-05T18:00:00Z)")
            }
            return SupportAccessGrant(enabled: true, until: until)
        case let other?:
            throw ConfigurationError(setting: "supportAccess", reason: "\"\(other)\" is not true or false")
        }
    }

    static func enrollment(_ setting: (String) -> String?) throws(ConfigurationError) -> EnrollmentSettings? {
        guard let url = setting("enrollUrl") else { return nil }
        guard url.hasPrefix("https://") else { throw ConfigurationError(setting: "enrollUrl", reason: "must be an https:// URL") }
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let value = setting(key) else { throw ConfigurationError(setting: key, reason: "required with --enroll-url") }
            return value
        }
        let tenant = try required("tenant")
        let environment = try required("environment")
        guard ResourceName.isValid(tenant), ResourceName.isValid(environment) else {
            throw ConfigurationError(setting: "tenant", reason: "tenant and environment must be DNS-1123 labels")
        }
        switch (setting("enrollmentTokenFile"), setting("serviceAccountTokenFile")) {
        case (let file?, nil): return EnrollmentSettings(url: url, tenant: tenant, environment: environment, proof: .tokenFile(file))
        case (nil, let file?): return EnrollmentSettings(url: url, tenant: tenant, environment: environment, proof: .serviceAccountTokenFile(file))
        default: throw ConfigurationError(setting: "enrollmentTokenFile", reason: "give exactly one of --enrollment-token-file or --service-account-token-file")
        }
    }
}
