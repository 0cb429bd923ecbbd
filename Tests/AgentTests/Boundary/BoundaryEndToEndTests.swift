import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// What a customer's security reviewer would try: marker strings planted in metric labels, metric names,
/// other series and error paths; a workspace spec whose allowlist and templates try to carry them out
/// (labels, annotations, `query`); then everything the controller stores, logs, answers and notifies is
/// searched. Real VictoriaMetrics, real controller, real agent (in process); the receiver is a webhook.
@Suite(.serialized) struct BoundaryEndToEndTests {
    /// Planted in the customer's data only (never in the spec, which the controller stores as it is).
    static let markers = ["MARKER-LABEL", "MARKER-QUERY", "MARKER-ERROR", "4242-4242-4242-4242", "MARKER_NAME"]

    @Test func nothingBeyondTheCeilingReachesTheControllerWhileAllowedAlertsArriveIntact() async throws {
        let vm = try await TestVictoriaMetrics.start()
        defer { vm.stop() }
        let receiver = try await WebhookTestServer.start()
        defer { Task { try? await receiver.stop() } }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var lines: [String] = []
        for step in -4...20 {
            let at = now + Int64(step) * 15_000
            lines += [
                #"qbeast_db_up{job="db",instance="db-0",customer_email="MARKER-LABEL@example.com",card="4242-4242-4242-4242"} 31337.5 \#(at)"#,
                #"qbeast_secret_series{token="MARKER-QUERY-token"} 1 \#(at)"#,
                #"qbeast_named_MARKER_NAME_metric{job="db"} 1 \#(at)"#,
                #"qbeast_dup{job="db",who="MARKER-ERROR-a"} 1 \#(at)"#,
                #"qbeast_dup{job="db",who="MARKER-ERROR-b"} 1 \#(at)"#,
            ]
        }
        try await vm.importPrometheus(lines)
        let routing = """
            route:
              receiver: hook
              group_wait: 0s
              group_interval: 1s
            receivers:
              - name: hook
                webhook_configs:
                  - url: \(receiver.url("/hook"))
            """
        let logs = CapturedLogs()
        try await withController(seed: .acmeProd, routingConfig: routing, logs: logs) { f in
            let api = f.operatorClient
            // The workspace spec (Qbeast's side) tries to widen: every label and annotation allowlisted,
            // templates that read non-allowed labels, `query` pulling another series, a failing rule.
            let spec = #"""
                {"spec":{"ruleGroups":[{"name":"db","interval":"1s","rules":[
                  {"alert":"DatabaseDown","expr":"qbeast_db_up > 1","labels":{"severity":"critical","team":"data","owner":"{{ $labels.customer_email }}"},
                   "annotations":{"summary":"database {{ $labels.instance }} is down {{ $labels.customer_email }}",
                     "description":"{{ with query \"qbeast_secret_series\" }}{{ . | first | label \"token\" }}{{ end }} value {{ $value }}",
                     "runbook":"{{ $labels.instance }} runbook"}},
                  {"alert":"NameLeak","expr":"{__name__=~\"qbeast_named_.*\"} == 1","labels":{"severity":"info"},
                   "annotations":{"summary":"{{ $labels.__name__ }}"}},
                  {"alert":"Broken","expr":"qbeast_db_up + on(job) group_left qbeast_dup"}]}],
                  "alertAllowlist":{"labels":["customer_email","card","owner","team","instance","severity","job","__name__"],
                    "annotations":["summary","description","runbook"]}}}
                """#
            #expect(try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec).status == 201)

            var configuration = AgentConfiguration(
                controllerURL: f.controller.agentURL, tls: f.pki.agentTLS("acme-prod"), stateDirectory: f.directory.path("agent"))
            configuration.metricsStoreURL = vm.url
            configuration.heartbeatInterval = .seconds(1)
            configuration.retry = RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(250))
            configuration.egressJournal.includeBodies = true
            // The customer's ceiling: the defaults, plus `card` allowed but its digits redacted.
            configuration.boundary = try DataBoundary.parse(#"extraLabels: [card]"# + "\n" + #"redactPatterns: ['\d{4}-\d{4}-\d{4}-\d{4}']"#)
            let agent = try TestAgent.start(configuration: configuration)

            try await eventually(timeout: .seconds(30), "the allowed alerts at the controller and the receiver") {
                let alerts = try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items
                return Set(alerts.compactMap { $0.labels["alertname"] }).isSuperset(of: ["DatabaseDown", "NameLeak"])
                    && receiver.received.contains { String(decoding: $0.body, as: UTF8.self).contains("DatabaseDown") }
            }
            try await eventually(timeout: .seconds(10), "RulesHealthy reported") {
                let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
                return workspace.status?.conditions[type: "RulesHealthy"]?.status == .false
            }

            let alerts = try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items
            let down = try #require(alerts.first { $0.labels["alertname"] == "DatabaseDown" })
            #expect(
                down.labels == ["alertname": "DatabaseDown", "card": "[redacted]", "instance": "db-0", "job": "db", "severity": "critical", "team": "data"],
                "the safe set, the rule's constant team label and the customer's card (redacted); not the email, not the templated owner")
            #expect(down.annotations["summary"] == "database db-0 is down ", "templates see only labels allowed to leave")
            #expect(down.annotations["runbook"] == nil)
            #expect(down.annotations["description"]?.contains("error expanding template") == true, "query is disabled")

            // Everything the controller answers, stores, logs and notifies, searched for the markers.
            var answers = ""
            for path in [
                "/v1/alerts?tenant=acme", "/v1/alert-groups", "/v1/tenants/acme/environments/prod",
                "/v1/tenants/acme/environments/prod/workspaces/analytics",
            ] {
                answers += try await api.request(.GET, path).text
            }
            let database = try Self.databaseBytes(f.databasePath)
            let logText = logs.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
            let notified = receiver.received.map { String(decoding: $0.body, as: UTF8.self) }.joined()
            #expect(!notified.isEmpty)
            for marker in Self.markers {
                #expect(!answers.contains(marker), "\(marker) in an API answer")
                #expect(!database.contains(marker), "\(marker) in the controller's database")
                #expect(!logText.contains(marker), "\(marker) in the controller's log")
                #expect(!notified.contains(marker), "\(marker) in a receiver payload")
            }
            #expect(down.value == nil, "the sample value is not sent")
            #expect(!answers.contains("31337.5"), "the sample value is not sent")
            let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
            // VictoriaMetrics' own message for the failing rule quotes the duplicate series' labels.
            let rules = try #require(workspace.status?.conditions[type: "RulesHealthy"])
            #expect(rules.status == .false && rules.message == "Broken: query failed", "the rule's name and the error's kind only: \(rules.message)")

            // The egress journal in the customer's namespace reconciles with what the controller received.
            let entries = try EgressJournal.read(directory: URL(fileURLWithPath: f.directory.path("agent")).appendingPathComponent("egress"))
            let alertEntries = entries.filter { $0.kind == "alerts" }
            #expect(!alertEntries.isEmpty && entries.contains { $0.kind == "status" })
            #expect(alertEntries.allSatisfy { !($0.labelNames ?? []).contains("customer_email") && !($0.labelNames ?? []).contains("owner") })
            // Each journalled body is exactly what was hashed, and what the controller holds for those alerts.
            for entry in alertEntries {
                let body = try #require(entry.body)
                #expect(Hex.sha256(body) == entry.sha256 && body.utf8.count == entry.bytes)
                for marker in Self.markers { #expect(!body.contains(marker), "\(marker) in a body that left") }
                let batch = try StrictJSON.decode(AlertBatch.self, from: Data(body.utf8))
                for sent in batch.alerts where sent.labels["alertname"] == "DatabaseDown" {
                    #expect(sent.labels == down.labels && sent.annotations == down.annotations)
                }
            }
            try await agent.stop()
        }
    }

    /// The SQLite database and its write-ahead log, as text (markers are ASCII).
    static func databaseBytes(_ path: String) throws -> String {
        guard !path.hasPrefix("postgres") else { return "" }
        var text = ""
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { text += String(decoding: data, as: UTF8.self) }
        }
        #expect(!text.isEmpty, "the database file was read")
        return text
    }
}
