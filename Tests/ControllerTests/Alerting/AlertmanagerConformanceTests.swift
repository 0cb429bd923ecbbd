import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// The same alert sequence fed to Prometheus Alertmanager 0.25 (Debian's package, on loopback) and to
/// the controller, with equivalent routes, a silence and an inhibition, both notifying webhooks:
/// the same groups are notified with the same alerts, in the same order, within one group_interval.
@Suite(.serialized) struct AlertmanagerConformanceTests {
    static let groupInterval: TimeInterval = 2
    /// Group timers run in phase with each group's creation, so the two can be a whole group_interval
    /// apart; beyond that, only the scheduling delay of two processes on a loaded machine (0.05–1.1 s
    /// seen while the other suites and builds run beside them). A notification a whole group_interval
    /// late (4 s and more) still fails.
    static let schedulingSlack: TimeInterval = 1.5

    static func routing(receiverURL: String) -> String {
        """
        route:
          receiver: hook
          group_by: [tenant, environment, alertname]
          group_wait: 1s
          group_interval: 2s
          repeat_interval: 1h
          routes:
            - matchers: ['severity="info"']
              receiver: hook
              group_by: [tenant, environment]
        receivers:
          - name: hook
            webhook_configs:
              - url: \(receiverURL)
        inhibit_rules:
          - source_matchers: ['severity="critical"']
            target_matchers: ['severity="warning"']
            equal: [tenant, environment]
        """
    }

    struct Alert {
        var name: String
        var severity: String
        var instance: String
        var labels: [String: String] { ["alertname": name, "severity": severity, "instance": instance] }
    }

    /// One notification reduced to what must agree: group, status, and each alert with its status.
    struct Seen: Equatable, CustomStringConvertible {
        var group: String
        var content: String
        var at: Date
        var description: String { "\(group) \(content)" }
        static func == (a: Seen, b: Seen) -> Bool { a.group == b.group && a.content == b.content }
    }

    static func seen(_ received: WebhookTestServer.Received) -> Seen? {
        guard let json = received.json else { return nil }
        let group = (json["groupLabels"].flatMap { value -> [String: JSONValue]? in if case .object(let o) = value { o } else { nil } } ?? [:])
            .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
        let alerts = (json["alerts"]?.arrayValue ?? []).map { alert in
            "\(alert["labels"]?["alertname"]?.stringValue ?? "")/\(alert["labels"]?["instance"]?.stringValue ?? ""):\(alert["status"]?.stringValue ?? "")"
        }.sorted()
        return Seen(group: group, content: "\(json["status"]?.stringValue ?? "") [\(alerts.joined(separator: " "))]", at: received.receivedAt)
    }

    @Test func sameNotificationsAsAlertmanager() async throws {
        guard TestAlertmanager.binary != nil else {
            Issue.record("prometheus-alertmanager is not installed: run scripts/install-deps.sh")
            return
        }
        let receiver = try await WebhookTestServer.start()
        // Alertmanager's webhook sends resolved notifications by default, as the controller's routes do.
        let alertmanager = try await TestAlertmanager.start(config: Self.routing(receiverURL: receiver.url("/alertmanager")))
        defer { alertmanager.stop() }
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing(receiverURL: receiver.url("/controller"))) { fixture in
            let operatorClient = fixture.operatorClient
            let agent = try fixture.agentClient("acme-prod")

            // The same silence on both sides.
            try await alertmanager.silence(["alertname": "Maintenance"], duration: 3600)
            #expect(
                try await operatorClient.request(
                    .POST, "/v1/silences",
                    json: #"{"matchers":["alertname=\"Maintenance\""],"duration":"1h","createdBy":"test","comment":"conformance"}"#
                ).status == 201)

            // The agent's connection is made before the clock starts: a TLS handshake on a loaded machine is not a notification delay.
            #expect(try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).status == 200)

            var sequence: Int64 = 0
            let startsAt = Date()
            // When each side accepted the first batch: both start their groups' timers then.
            var acceptedFirst: (ours: Date, theirs: Date)?
            func send(firing: [Alert], resolved: [Alert] = []) async throws {
                let now = Date()
                sequence += 1
                let batch = AlertBatch(
                    instance: "conformance", sequence: sequence,
                    alerts:
                        firing.map { AgentAlert(workspace: "analytics", state: .firing, labels: $0.labels, annotations: [:], startsAt: startsAt) }
                        + resolved.map {
                            AgentAlert(workspace: "analytics", state: .resolved, labels: $0.labels, annotations: [:], startsAt: startsAt, endsAt: now)
                        })
                async let ours = agent.request(.POST, "/agent/v1/alerts", encoding: batch, token: nil)
                let amAlerts: [[String: Any]] =
                    firing.map { alert in
                        [
                            "labels": alert.labels.merging(["tenant": "acme", "environment": "prod", "workspace": "analytics"]) { $1 },
                            "startsAt": Timestamp.format(startsAt),
                        ]
                    }
                    + resolved.map { alert in
                        [
                            "labels": alert.labels.merging(["tenant": "acme", "environment": "prod", "workspace": "analytics"]) { $1 },
                            "startsAt": Timestamp.format(startsAt), "endsAt": Timestamp.format(now),
                        ]
                    }
                try await alertmanager.post(alerts: try JSONSerialization.data(withJSONObject: amAlerts))
                let theirsAccepted = Date()
                #expect(try await ours.status == 200)
                if acceptedFirst == nil { acceptedFirst = (Date(), theirsAccepted) }
            }

            let a = Alert(name: "BackendDown", severity: "critical", instance: "a")
            let b = Alert(name: "BackendDown", severity: "critical", instance: "b")
            let warning = Alert(name: "LatencyHigh", severity: "warning", instance: "a")
            let silenced = Alert(name: "Maintenance", severity: "warning", instance: "a")
            let info1 = Alert(name: "CompactionSlow", severity: "info", instance: "a")
            let info2 = Alert(name: "CacheCold", severity: "info", instance: "a")

            try await send(firing: [a, warning, silenced, info1, info2])
            try await Task.sleep(for: .seconds(3.5))
            try await send(firing: [b])  // joins BackendDown's group
            try await Task.sleep(for: .seconds(3))
            try await send(firing: [b], resolved: [a])
            try await Task.sleep(for: .seconds(3))
            try await send(firing: [], resolved: [b, info1, info2])  // the critical is gone: LatencyHigh is no longer inhibited
            try await Task.sleep(for: .seconds(4.5))

            let received = receiver.received
            let fromAlertmanager = received.filter { $0.path == "/alertmanager" }.compactMap(Self.seen)
            let fromController = received.filter { $0.path == "/controller" }.compactMap(Self.seen)
            let groups = Set(fromAlertmanager.map(\.group)).union(fromController.map(\.group))
            #expect(groups.count == 3, "BackendDown, LatencyHigh and the info group; Maintenance is silenced: \(groups)")
            for group in groups.sorted() {
                let expected = fromAlertmanager.filter { $0.group == group }
                let actual = fromController.filter { $0.group == group }
                #expect(actual == expected, "group \(group)\nAlertmanager: \(expected)\ncontroller:   \(actual)")
                // Our request may have taken longer than theirs; each side's timers count from its own acceptance.
                let ourAcceptanceLag = acceptedFirst.map { $0.ours.timeIntervalSince($0.theirs) } ?? 0
                for (theirs, ours) in zip(expected, actual) {
                    let lag = ours.at.timeIntervalSince(theirs.at) - ourAcceptanceLag
                    #expect(
                        abs(lag) <= Self.groupInterval + Self.schedulingSlack,
                        "\(group): \(ours.content) came \(lag)s after Alertmanager's (counted from each side's acceptance of the first batch)")
                }
            }
            #expect(
                fromController.filter { $0.group.contains("BackendDown") }.map(\.content) == [
                    "firing [BackendDown/a:firing]", "firing [BackendDown/a:firing BackendDown/b:firing]",
                    "firing [BackendDown/a:resolved BackendDown/b:firing]", "resolved [BackendDown/b:resolved]",
                ])
            #expect(
                fromController.filter { $0.group == "environment=prod,tenant=acme" }.map(\.content) == [
                    "firing [CacheCold/a:firing CompactionSlow/a:firing]", "resolved [CacheCold/a:resolved CompactionSlow/a:resolved]",
                ])
            #expect(fromController.contains { $0.content == "firing [LatencyHigh/a:firing]" }, "inhibition lifted once the critical resolved")
        }
        try await receiver.stop()
    }
}
