import Agent
import ArgumentParser
import Foundation
import Logging
import NIOCore
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
        subcommands: [Run.self, CheckRules.self, TestRules.self, Egress.self]
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
    @Option(help: "The customer's data boundary (YAML; the chart renders values.boundary into it): what alerts and status may carry out.")
    var boundaryFile: String?
    @Option(help: "The agent's Deployment, which its Kubernetes Events are about (the chart sets it). Default: its Pod.") var deploymentName: String?
    @Option(help: "Keep every body sent upstream in the egress journal too (true/false). Default false: sizes, hashes and names only.")
    var egressJournalBodies: String?
    @Option(help: "Size at which an egress journal file is rotated (4 kept). Default 10485760.") var egressJournalMaxBytes: String?
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
            "driftInterval": driftInterval, "installInterval": installInterval, "boundaryFile": boundaryFile, "deploymentName": deploymentName,
            "egressJournalBodies": egressJournalBodies, "egressJournalMaxBytes": egressJournalMaxBytes, "supportAccess": supportAccess,
            "supportAccessUntil": supportAccessUntil,
        ]
    }

    func run() async throws {
        // A handful of connections (controller, metrics store, Kubernetes API, its own listener):
        // one event-loop thread carries them, where NIO's default is one per core.
        NIOSingletons.groupLoopCountSuggestion = 1
        NIOSingletons.blockingPoolThreadCountSuggestion = 1
        let layers = try LayeredConfiguration.load(file: config)
        JSONLogHandler.bootstrap(level: Logger.Level(rawValue: layers.string(logLevel, key: "logLevel") ?? "info") ?? .info)
        let logger = Logger(label: "qbeast-agent")
        do {
            let flags = self.flags
            let startup = try AgentStartup.resolve { key in layers.string(flags[key] ?? nil, key: key) }
            var configuration = startup.configuration
            let serial = { (files: TLSFiles?) in files.flatMap { try? CredentialStore.certificate($0).serialHex } }
            let before = serial(CredentialStore(stateDirectory: configuration.stateDirectory).current())
            configuration.tls = try await AgentEnrollment.credentials(
                stateDirectory: configuration.stateDirectory, configured: startup.configuredTLS, caBundle: configuration.tls.trustBundle,
                enrollment: startup.enrollment, trustDomain: startup.trustDomain, logger: logger, proxy: configuration.proxy)
            if let proxy = configuration.proxy { logger.info("controller traffic goes through the HTTPS proxy", metadata: ["proxy": "\(proxy)"]) }
            let registry = OperationsEndpoints.bootstrapMetrics()
            let agent = try AgentService(configuration: configuration, logger: logger)
            if startup.enrollment != nil, let after = serial(configuration.tls), after != before {
                await agent.event(.normal, "Enrolled", "Enroll", "enrolled with the controller; certificate serial \(after)")
            }
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

/// `qbeast-agent egress tail`: what the agent sent upstream, from its egress journal, for the customer's
/// reviewer (`kubectl exec deploy/qbeast-agent -- qbeast-agent egress tail`). Read with `kubectl exec` rather
/// than served on a port: the agent keeps no inbound API, and who may read it is who may exec into the pod.
struct Egress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the egress journal: every message the agent sent upstream.",
        subcommands: [Tail.self]
    )

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the last journal entries (JSON Lines: time, kind, bytes, sha256, label and annotation names).",
            discussion: "With --totals, bytes per kind over every entry kept instead (compare with qbeast_agent_bytes_sent_total)."
        )

        @Option(help: "The agent's state directory. Default ./.data/agent (in the chart /var/lib/qbeast-agent).") var stateDir: String?
        @Option(name: [.customShort("n"), .long], help: "How many entries. Default 20.") var lines: Int = 20
        @Flag(help: "Bytes and messages per kind instead of entries.") var totals = false

        func validate() throws {
            guard lines > 0 else { throw ValidationError("--lines must be positive") }
        }

        func run() async throws {
            let base = stateDir ?? ProcessInfo.processInfo.environment["QBEAST_STATE_DIR"] ?? ".data/agent"
            let directory = URL(fileURLWithPath: base).appendingPathComponent("egress")
            guard FileManager.default.fileExists(atPath: directory.path) else {
                throw ValidationError("no egress journal at \(directory.path) (is --state-dir the agent's?)")
            }
            let entries: [EgressJournalEntry]
            do { entries = try EgressJournal.read(directory: directory) } catch {
                throw ValidationError("the egress journal at \(directory.path) cannot be read: \(error)")
            }
            if totals {
                let counts = entries.reduce(into: [String: Int]()) { $0[$1.kind, default: 0] += 1 }
                for (kind, bytes) in EgressJournal.totals(entries).sorted(by: { $0.key < $1.key }) {
                    print("\(kind)\tmessages=\(counts[kind] ?? 0)\tbytes=\(bytes)")
                }
                return
            }
            for entry in entries.suffix(lines) {
                print(String(decoding: try EgressJournal.encode(entry), as: UTF8.self))
            }
        }
    }
}
