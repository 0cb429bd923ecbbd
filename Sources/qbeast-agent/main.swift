import Agent
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS

@main
struct QbeastAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbeast-agent",
        abstract: "The Qbeast data-plane agent: dials out to the controller over mutual TLS and reports status and alerts.",
        version: BuildVersion.current,
        subcommands: [Run.self, CheckRules.self, TestRules.self]
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent until SIGINT/SIGTERM.",
        discussion: """
        Every option can also be set as a QBEAST_… environment variable (--controller-url as \
        QBEAST_CONTROLLER_URL) or as a camelCase key in the --config YAML file (controllerUrl). \
        Flags win over the environment, which wins over the file.
        """
    )

    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "Controller agent-gateway URL, e.g. https://localhost:8444; for replicas a comma-separated list, used in turn when one is unreachable.") var controllerUrl: String?
    @Option(help: "PEM client certificate (its SPIFFE ID names tenant and environment).") var tlsCert: String?
    @Option(help: "PEM private key of the client certificate; it never leaves this machine.") var tlsKey: String?
    @Option(help: "PEM CA bundle the controller's certificate must chain to.") var caBundle: String?
    @Option(help: "Controller enrollment URL, e.g. https://localhost:8445 (first start without a certificate).") var enrollUrl: String?
    @Option(help: "File holding the one-time enrollment token (from `qbctl env enroll-token`).") var enrollmentTokenFile: String?
    @Option(help: "Projected service-account token file (audience: the controller's) to enroll with instead of a token.") var serviceAccountTokenFile: String?
    @Option(help: "Tenant this agent serves (enrollment).") var tenant: String?
    @Option(help: "Environment this agent serves (enrollment).") var environment: String?
    @Option(help: "SPIFFE trust domain of the controller. Default qbeast.dev.") var trustDomain: String?
    @Option(help: "State directory (instance id, alert outbox). Default ./.data/agent.") var stateDir: String?
    @Option(help: "Operations listen address (/metrics, /healthz, /readyz). Default 127.0.0.1:9091.") var metricsListen: String?
    @Option(help: "Longest desired-state long poll. Default 30s.") var pollTimeout: String?
    @Option(help: "Status heartbeat interval. Default 30s.") var heartbeatInterval: String?
    @Option(help: "Outbox bound in alert batches (oldest dropped beyond it, and reported). Default 10000.") var outboxMaxBatches: String?
    @Option(help: "Metrics store (Prometheus-compatible API, e.g. VictoriaMetrics) the alert rules query, e.g. http://vmsingle:8428.") var metricsStoreUrl: String?
    @Option(help: "Lookback of instant queries (VictoriaMetrics step). Default 5m.") var metricsStoreStep: String?
    @Option(help: "Interval of rule groups that set none. Default 1m.") var evaluationInterval: String?
    @Option(help: "How often a firing alert is re-sent to the controller. Default 1m.") var ruleResendDelay: String?
    @Option(help: "Kubeconfig to install components through (development). In a pod the service account is used: KUBERNETES_SERVICE_HOST/PORT, token and CA.") var kubeconfig: String?
    @Option(help: "Kubeconfig context (default: its current-context).") var kubeContext: String?
    @Option(help: "Namespace to install into and stay confined to (default: the pod's own, or the kubeconfig context's).") var namespace: String?
    @Option(help: "How often applied components are applied again to undo changes made out of band. Default 5m.") var driftInterval: String?
    @Option(help: "Longest time between install passes that read health back. Default 30s.") var installInterval: String?
    @Option(help: "Log level. Default info.") var logLevel: String?

    func run() async throws {
        let layers = try LayeredConfiguration.load(file: config)
        JSONLogHandler.bootstrap(level: Logger.Level(rawValue: layers.string(logLevel, key: "logLevel") ?? "info") ?? .info)
        let logger = Logger(label: "qbeast-agent")
        do {
            var configuration = try Self.resolve(self, layers)
            configuration.tls = try await AgentEnrollment.credentials(
                stateDirectory: configuration.stateDirectory, configured: try Self.configuredTLS(self, layers, caBundle: configuration.tls.trustBundle),
                caBundle: configuration.tls.trustBundle, enrollment: try Self.enrollment(self, layers),
                trustDomain: layers.string(trustDomain, key: "trustDomain") ?? "qbeast.dev", logger: logger)
            let registry = OperationsEndpoints.bootstrapMetrics()
            let agent = try AgentService(configuration: configuration, logger: logger)
            let operations = OperationsEndpoints.application(host: configuration.metricsListen.host, port: configuration.metricsListen.port,
                                                             registry: registry, readiness: agent.readiness, logger: logger)
            let group = ServiceGroup(configuration: .bounded([operations, agent], signals: [.sigterm, .sigint], limit: .seconds(20), logger: logger))
            try await group.run()
        } catch {
            logger.critical("agent failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    static func resolve(_ flags: Run, _ layers: LayeredConfiguration) throws -> AgentConfiguration {
        func required(_ flag: String?, _ key: String, _ option: String) throws -> String {
            guard let value = layers.string(flag, key: key) else {
                throw ConfigurationError(setting: key, reason: "required (flag --\(option) or \(LayeredConfiguration.environmentName(key)))")
            }
            return value
        }
        func duration(_ flag: String?, _ key: String) throws -> Duration? {
            guard let text = layers.string(flag, key: key) else { return nil }
            guard let value = parseDuration(text), value > .zero else { throw ConfigurationError(setting: key, reason: "\"\(text)\" is not a positive duration") }
            return value
        }
        // One URL, or a comma-separated list (one per controller replica) the agent fails over along.
        let urls = try required(flags.controllerUrl, "controllerUrl", "controller-url")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw ConfigurationError(setting: "controllerUrl", reason: "no URL given") }
        for url in urls where !url.hasPrefix("https://") {
            throw ConfigurationError(setting: "controllerUrl", reason: "\"\(url)\" must be an https:// URL")
        }
        // The certificate comes later (configured files, the state directory, or enrollment); the CA
        // bundle is what the controller is trusted with until then.
        let caBundle = try required(flags.caBundle, "caBundle", "ca-bundle")
        var configuration = AgentConfiguration(
            controllerURLs: urls, tls: TLSFiles(certificate: "", privateKey: "", trustBundle: caBundle),
            stateDirectory: layers.string(flags.stateDir, key: "stateDir") ?? ".data/agent"
        )
        if let text = layers.string(flags.metricsListen, key: "metricsListen") {
            guard let address = ListenAddress(text) else { throw ConfigurationError(setting: "metricsListen", reason: "\"\(text)\" is not host:port") }
            configuration.metricsListen = address
        }
        if let value = try duration(flags.pollTimeout, "pollTimeout") { configuration.pollTimeout = value }
        if let value = try duration(flags.heartbeatInterval, "heartbeatInterval") { configuration.heartbeatInterval = value }
        if let url = layers.string(flags.metricsStoreUrl, key: "metricsStoreUrl") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError(setting: "metricsStoreUrl", reason: "must be an http(s):// URL")
            }
            configuration.metricsStoreURL = url
        }
        if let value = try duration(flags.metricsStoreStep, "metricsStoreStep") { configuration.metricsStoreStep = value }
        if let value = try duration(flags.evaluationInterval, "evaluationInterval") { configuration.defaultEvaluationInterval = value }
        if let value = try duration(flags.ruleResendDelay, "ruleResendDelay") { configuration.ruleResendDelay = value }
        let namespace = layers.string(flags.namespace, key: "namespace")
        if let namespace, !ResourceName.isValid(namespace) {
            throw ConfigurationError(setting: "namespace", reason: "\"\(namespace)\" is not a DNS-1123 label")
        }
        if let path = layers.string(flags.kubeconfig, key: "kubeconfig") {
            configuration.kubernetes = try KubernetesConnection.kubeconfig(path: path, context: layers.string(flags.kubeContext, key: "kubeContext"),
                                                                           namespace: namespace)
        } else if ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] != nil {
            configuration.kubernetes = try KubernetesConnection.inCluster(namespace: namespace)
        }
        if let value = try duration(flags.driftInterval, "driftInterval") { configuration.install.driftInterval = value }
        if let value = try duration(flags.installInterval, "installInterval") { configuration.installInterval = value }
        if let text = layers.string(flags.outboxMaxBatches, key: "outboxMaxBatches") {
            guard let value = Int(text), value >= 1 else { throw ConfigurationError(setting: "outboxMaxBatches", reason: "must be a positive integer") }
            configuration.outboxMaxBatches = value
        }
        return configuration
    }

    static func configuredTLS(_ flags: Run, _ layers: LayeredConfiguration, caBundle: String) throws -> TLSFiles? {
        switch (layers.string(flags.tlsCert, key: "tlsCert"), layers.string(flags.tlsKey, key: "tlsKey")) {
        case (let certificate?, let key?): return TLSFiles(certificate: certificate, privateKey: key, trustBundle: caBundle)
        case (nil, nil): return nil
        default: throw ConfigurationError(setting: "tlsKey", reason: "--tls-cert and --tls-key go together")
        }
    }

    static func enrollment(_ flags: Run, _ layers: LayeredConfiguration) throws -> EnrollmentSettings? {
        guard let url = layers.string(flags.enrollUrl, key: "enrollUrl") else { return nil }
        guard url.hasPrefix("https://") else { throw ConfigurationError(setting: "enrollUrl", reason: "must be an https:// URL") }
        func required(_ value: String?, _ key: String) throws -> String {
            guard let value else { throw ConfigurationError(setting: key, reason: "required with --enroll-url") }
            return value
        }
        let tenant = try required(layers.string(flags.tenant, key: "tenant"), "tenant")
        let environment = try required(layers.string(flags.environment, key: "environment"), "environment")
        guard ResourceName.isValid(tenant), ResourceName.isValid(environment) else {
            throw ConfigurationError(setting: "tenant", reason: "tenant and environment must be DNS-1123 labels")
        }
        switch (layers.string(flags.enrollmentTokenFile, key: "enrollmentTokenFile"), layers.string(flags.serviceAccountTokenFile, key: "serviceAccountTokenFile")) {
        case (let file?, nil): return EnrollmentSettings(url: url, tenant: tenant, environment: environment, proof: .tokenFile(file))
        case (nil, let file?): return EnrollmentSettings(url: url, tenant: tenant, environment: environment, proof: .serviceAccountTokenFile(file))
        default: throw ConfigurationError(setting: "enrollmentTokenFile", reason: "give exactly one of --enrollment-token-file or --service-account-token-file")
        }
    }
}

struct CheckRules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-rules",
        abstract: "Validate Prometheus rule files: schema, durations, templates; with --store also every expression.",
        discussion: "Prints one line per problem as file:group:rule: reason, and exits 1 when there is any."
    )

    @Option(help: "Metrics store URL to run every expression against (e.g. http://127.0.0.1:8428).") var store: String?
    @Argument(help: "Rule files.") var files: [String]

    func run() async throws {
        let checker = RuleFileChecker(storeURL: store)
        var failed = false
        for file in files {
            let report = await checker.check(path: file)
            for problem in report.problems { print(problem) }
            if report.problems.isEmpty {
                print("\(file): \(report.groups) group(s), \(report.rules) rule(s): OK")
            } else {
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

struct TestRules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-rules",
        abstract: "Run Prometheus `promtool test rules` unit-test files with the agent's own evaluator.",
        discussion: """
        Each test case gets a throwaway VictoriaMetrics on loopback (Debian's victoria-metrics package); its input_series \
        (a+bxn notation) are imported and the evaluator is stepped through every evaluation_interval up to the last \
        eval_time. alert_rule_test entries are compared like promtool does. Exits 1 when any test fails.
        """
    )

    @Argument(help: "Unit-test files.") var files: [String]

    func run() async throws {
        var failed = false
        for path in files {
            print("Unit Testing: \(path)")
            do {
                let failures = try await RuleTestRunner().run(try RuleTestFile.load(path: path))
                if failures.isEmpty {
                    print("  SUCCESS")
                } else {
                    failed = true
                    print("  FAILED:")
                    failures.forEach { print($0) }
                }
            } catch {
                failed = true
                print("  FAILED:\n    \(error)")
            }
        }
        if failed { throw ExitCode.failure }
    }
}
