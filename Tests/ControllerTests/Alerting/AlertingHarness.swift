import AlertRouting
import Controller
import ControllerModel
import Foundation
import Logging
import PostgresDriver
import SQLStorage
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Synchronization

/// The controller's alerting pipeline over a real store (an SQLite file, or a database of its own on the
/// test PostgreSQL), a manual clock and a local receiver
/// standing in for Slack and webhooks. `step(by:)` moves time and runs one flush and one delivery
/// round, as the background loops would at that instant.
final class AlertingHarness: Sendable {
    let directory: TemporaryDirectory
    let clock: ManualTimeSource
    let receiver: WebhookTestServer
    /// Slack's Web API, for the `slackapp` receiver (an app token instead of an incoming webhook).
    let slackAPI: SlackAPITestServer
    let requestTimeout: Duration
    let routingPath: String
    let environment: [String: String]
    // The "process": replaced by `restart()`, as after kill -9 (every write was a committed transaction).
    private let process = Mutex<(store: any ControllerStore, dispatcher: AlertDispatcher, delivery: NotificationDelivery)?>(nil)
    let kind: TestStoreKind
    /// The PostgreSQL database (for `.postgres`), and every store opened on it (closed by `stop()`).
    private let postgres: PostgresURL?
    private let opened = Mutex<[SQLStore]>([])

    var store: any ControllerStore { process.withLock { $0!.store } }
    var dispatcher: AlertDispatcher { process.withLock { $0!.dispatcher } }
    var delivery: NotificationDelivery { process.withLock { $0!.delivery } }

    /// `routes` is the YAML under `route:`; receivers `slack` (Slack webhook), `hook` (Alertmanager
    /// webhook) and `none` are declared, all pointing at the local receiver, and `slackapp` (Slack's
    /// Web API with a bot token) at the Slack API test server.
    static func start(
        routes: String, inhibitRules: String = "", store kind: TestStoreKind = .sqlite,
        requestTimeout: Duration = .seconds(10)
    ) async throws -> AlertingHarness {
        let directory = try TemporaryDirectory()
        let postgres = kind == .postgres ? try await TestPostgres.shared().createDatabase() : nil
        let receiver = try await WebhookTestServer.start()
        let clock = ManualTimeSource()
        let slackAPI = try await SlackAPITestServer.start(now: { clock.now() })
        let environment = ["TEST_SLACK_WEBHOOK": receiver.url("/services/T000/B000/slack-secret"), "TEST_SLACK_TOKEN": slackAPI.token]
        let routingPath = directory.path("routing.yaml")
        try """
        route:
        \(routes.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        receivers:
          - name: slack
            slack_configs:
              - webhook_url_env: TEST_SLACK_WEBHOOK
                channel: "#data-oncall"
          - name: hook
            webhook_configs:
              - url: \(receiver.url("/hook"))
          - name: slackapp
            slack_configs:
              - app_token_env: TEST_SLACK_TOKEN
                app_url: \(slackAPI.postMessageURL)
                channel: C0TESTCHAN1
          - name: none
        \(inhibitRules)
        """.write(toFile: routingPath, atomically: true, encoding: .utf8)
        let harness = AlertingHarness(
            directory: directory, clock: clock, receiver: receiver, slackAPI: slackAPI, requestTimeout: requestTimeout,
            routingPath: routingPath, environment: environment, kind: kind, postgres: postgres)
        try await harness.open()
        _ = try await harness.store.createTenant(TenantRequest(name: "acme"), at: clock.now())
        _ = try await harness.store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: clock.now())
        _ = try await harness.store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "dev", cloud: .aws, mode: .provided), at: clock.now())
        return harness
    }

    private init(
        directory: TemporaryDirectory, clock: ManualTimeSource, receiver: WebhookTestServer, slackAPI: SlackAPITestServer,
        requestTimeout: Duration, routingPath: String, environment: [String: String], kind: TestStoreKind, postgres: PostgresURL?
    ) {
        self.slackAPI = slackAPI
        self.requestTimeout = requestTimeout
        self.kind = kind
        self.postgres = postgres
        self.directory = directory
        self.clock = clock
        self.receiver = receiver
        self.routingPath = routingPath
        self.environment = environment
    }

    /// Opens the store (again, after a restart) with a dispatcher and delivery of its own.
    private func open() async throws {
        let store: any ControllerStore
        if let postgres {
            let opened = try await SQLStore.postgres(
                postgres, logger: Logger(label: "alerting-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                maximumConnections: 4)
            self.opened.withLock { $0.append(opened) }
            store = opened
        } else {
            store = try SQLStore.sqlite(path: directory.path("controller.sqlite"))
        }
        let source = try RoutingConfigSource.load(path: routingPath, at: clock.now(), environment: environment)
        var logger = Logger(label: "alerting-test")
        logger.logLevel = .critical
        let fresh = (
            store, AlertDispatcher(store: store, configSource: source, clock: clock, logger: logger),
            NotificationDelivery(
                store: store, configSource: source, clock: clock, logger: logger,
                requestTimeout: .nanoseconds(
                    Int64(
                        requestTimeout.components.seconds * 1_000_000_000
                            + requestTimeout.components.attoseconds / 1_000_000_000)))
        )
        process.withLock { $0 = fresh }
    }

    /// A fresh store, dispatcher and delivery on the same database file: what a restarted controller has.
    func restart() async throws {
        // The old process is gone, its connections with it.
        for store in opened.withLock({ stores in
            defer { stores = [] }; return stores
        }) { await store.close() }
        try await open()
        try await dispatcher.refileAlerts()
    }

    private let sequence = Mutex<Int64>(0)

    /// An alert from the agent of acme/`environment`, stored and filed as the gateway does.
    @discardableResult
    func send(_ alerts: [AgentAlert], environment: String = "prod") async throws -> Bool {
        let next = sequence.withLock {
            $0 += 1; return $0
        }
        return try await store.recordAlertBatch(
            tenant: "acme", environment: environment,
            batch: AlertBatch(instance: "agent-1", sequence: next, alerts: alerts),
            at: clock.now(), assign: dispatcher.assign)
    }

    func firing(_ name: String, severity: String = "critical", summary: String? = nil, extra: [String: String] = [:]) -> AgentAlert {
        AgentAlert(
            workspace: "analytics", state: .firing, labels: ["alertname": name, "severity": severity].merging(extra) { $1 },
            annotations: summary.map { ["summary": $0] } ?? [:], startsAt: clock.now(), endsAt: nil)
    }

    func resolved(_ alert: AgentAlert) -> AgentAlert {
        var alert = alert
        alert.state = .resolved
        alert.endsAt = clock.now()
        return alert
    }

    /// Moves the clock and runs the loops' work for that instant: one flush round, then delivery.
    func step(by duration: Duration = .zero) async throws {
        clock.advance(by: duration)
        try await dispatcher.flushDue()
        try await delivery.deliverDue()
    }

    /// Steps `count` times by `interval`.
    func run(_ count: Int, every interval: Duration) async throws {
        for _ in 0..<count { try await step(by: interval) }
    }

    /// Received messages on `path`, as JSON.
    func messages(_ path: String) -> [JSONValue] {
        receiver.received.filter { $0.path == path }.compactMap(\.json)
    }

    var slack: [JSONValue] { messages("/services/T000/B000/slack-secret") }
    var hook: [JSONValue] { messages("/hook") }

    func groups() async throws -> [AlertGroup] { try await store.alertGroups(tenant: nil, at: clock.now()) }

    func stop() async throws {
        try await receiver.stop()
        try await slackAPI.stop()
        for store in opened.withLock({ stores in
            defer { stores = [] }; return stores
        }) { await store.close() }
        if let postgres { await (try? await TestPostgres.shared())?.dropDatabase(postgres) }
        directory.remove()
    }
}

/// Status and alert names of an Alertmanager webhook payload, for compact assertions.
func summary(_ payload: JSONValue) -> String {
    let status = payload["status"]?.stringValue ?? "?"
    let alerts = (payload["alerts"]?.arrayValue ?? []).map { alert in
        "\(alert["labels"]?["alertname"]?.stringValue ?? "?")/\(alert["status"]?.stringValue ?? "?")"
    }
    return "\(status): \(alerts.sorted().joined(separator: ","))"
}
