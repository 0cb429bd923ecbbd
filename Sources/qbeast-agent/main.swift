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
    @Option(help: "Controller agent-gateway URL, e.g. https://localhost:8444; for replicas a comma-separated list, used in turn when one is unreachable.")
    var controllerUrl: String?
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
    @Option(help: "Metrics store (Prometheus-compatible API, e.g. VictoriaMetrics) the alert rules query, e.g. http://vmsingle:8428.") var metricsStoreUrl:
        String?
    @Option(help: "Lookback of instant queries (VictoriaMetrics step). Default 5m.") var metricsStoreStep: String?
    @Option(help: "Interval of rule groups that set none. Default 1m.") var evaluationInterval: String?
    @Option(help: "How often a firing alert is re-sent to the controller. Default 1m.") var ruleResendDelay: String?
    @Option(help: "Kubeconfig to install components through (development). In a pod the service account is used: KUBERNETES_SERVICE_HOST/PORT, token and CA.")
    var kubeconfig: String?
    @Option(help: "Kubeconfig context (default: its current-context).") var kubeContext: String?
    @Option(help: "Namespace to install into and stay confined to (default: the pod's own, or the kubeconfig context's).") var namespace: String?
    @Option(help: "How often applied components are applied again to undo changes made out of band. Default 5m.") var driftInterval: String?
    @Option(help: "Longest time between install passes that read health back. Default 30s.") var installInterval: String?
    @Option(help: "Support access granted by the customer: true or false (chart: supportAccess.enabled). Default false.") var supportAccess: String?
    @Option(help: "End of the support access grant, RFC 3339 (chart: supportAccess.until); required with --support-access true.")
    var supportAccessUntil: String?
    @Option(help: "Log level. Default info.") var logLevel: String?

    /// Every flag by its configuration key; `AgentStartup.resolve` does the rest.
    var flags: [String: String?] {
        [
            "controllerUrl": controllerUrl, "tlsCert": tlsCert, "tlsKey": tlsKey, "caBundle": caBundle, "enrollUrl": enrollUrl,
            "enrollmentTokenFile": enrollmentTokenFile, "serviceAccountTokenFile": serviceAccountTokenFile, "tenant": tenant,
            "environment": environment, "trustDomain": trustDomain, "stateDir": stateDir, "metricsListen": metricsListen,
            "pollTimeout": pollTimeout, "heartbeatInterval": heartbeatInterval, "outboxMaxBatches": outboxMaxBatches,
            "metricsStoreUrl": metricsStoreUrl, "metricsStoreStep": metricsStoreStep, "evaluationInterval": evaluationInterval,
            "ruleResendDelay": ruleResendDelay, "kubeconfig": kubeconfig, "kubeContext": kubeContext, "namespace": namespace,
            "driftInterval": driftInterval, "installInterval": installInterval, "supportAccess": supportAccess,
            "supportAccessUntil": supportAccessUntil,
        ]
    }

    func run() async throws {
        let layers = try LayeredConfiguration.load(file: config)
        JSONLogHandler.bootstrap(level: Logger.Level(rawValue: layers.string(logLevel, key: "logLevel") ?? "info") ?? .info)
        let logger = Logger(label: "qbeast-agent")
        do {
            let flags = self.flags
            let startup = try AgentStartup.resolve { key in layers.string(flags[key] ?? nil, key: key) }
            var configuration = startup.configuration
            configuration.tls = try await AgentEnrollment.credentials(
                stateDirectory: configuration.stateDirectory, configured: startup.configuredTLS, caBundle: configuration.tls.trustBundle,
                enrollment: startup.enrollment, trustDomain: startup.trustDomain, logger: logger)
            let registry = OperationsEndpoints.bootstrapMetrics()
            let agent = try AgentService(configuration: configuration, logger: logger)
            let operations = OperationsEndpoints.application(
                host: configuration.metricsListen.host, port: configuration.metricsListen.port,
                registry: registry, readiness: agent.readiness, logger: logger)
            let group = ServiceGroup(configuration: .bounded([operations, agent], signals: [.sigterm, .sigint], limit: .seconds(20), logger: logger))
            try await group.run()
        } catch {
            logger.critical("agent failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
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
