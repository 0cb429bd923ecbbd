import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// The agent's evaluator and vmalert 1.79.5 (Debian's) run the same rules on the same
/// VictoriaMetrics data in real time; the same alerts must fire and resolve with the same labels and
/// annotations. Only fields vmalert 1.79 knows are used (no keep_firing_for).
@Suite(.serialized) struct VMAlertConformanceTests {
    static let rules = """
        groups:
          - name: conformance
            interval: 1s
            rules:
              - alert: ConfHighLoad
                expr: conf_load > 0.8
                for: 2s
                labels:
                  severity: warning
                  tier: '{{ if eq $labels.job "db" }}data{{ else }}compute{{ end }}'
                annotations:
                  summary: '{{ $labels.instance }} load is {{ $value | humanizePercentage }}'
                  description: 'Instance {{ $labels.instance | toUpper }} of job {{ $labels.job }} ({{ printf "%.2f" $value }})'
              - alert: ConfDown
                expr: conf_up == 0
                labels:
                  severity: critical
                annotations:
                  summary: '{{ $labels.instance }} is down'
                  description: 'value {{ $value }}'
        """

    struct Seen: Hashable, CustomStringConvertible {
        var labels: [String: String]
        var annotations: [String: String]
        var description: String { "\(labels.sorted { $0.key < $1.key }) \(annotations.sorted { $0.key < $1.key })" }
    }

    @Test func sameAlertsFireAndResolveAsWithVMAlert() async throws {
        guard TestVMAlert.binary != nil else {
            Issue.record("vmalert is not installed; run `make test`, which installs Debian's victoria-metrics")
            return
        }
        let vm = try await TestVictoriaMetrics.start()
        let receiver = try await AlertmanagerAPIReceiver.start()
        let directory = try TemporaryDirectory()
        defer { vm.stop(); directory.remove() }

        // High load on a (db) and d (web) and a down instance c for ~8 s from now, then healthy; b never alerts.
        let now = Int64(Date().timeIntervalSince1970) * 1000
        var lines: [String] = []
        for second in -30...40 {
            let ts = now + Int64(second) * 1000
            let bad = second <= 8
            lines.append(#"conf_load{instance="a",job="db"} \#(bad ? "0.95" : "0.1") \#(ts)"#)
            lines.append(#"conf_load{instance="d",job="web"} \#(bad ? "0.875" : "0.1") \#(ts)"#)
            lines.append(#"conf_load{instance="b",job="db"} 0.5 \#(ts)"#)
            lines.append(#"conf_up{instance="c",job="db"} \#(bad ? "0" : "1") \#(ts)"#)
        }
        try await vm.importPrometheus(lines)

        let vmalert = try TestVMAlert.start(rules: Self.rules, datasource: vm.url, notifier: receiver.url, evaluationInterval: "1s")
        defer { vmalert.stop() }

        let file = directory.path("rules.yaml")
        try Self.rules.write(toFile: file, atomically: false, encoding: .utf8)
        let groups = try RuleFileChecker.decode(Self.rules).groups
        let outbox = try AlertOutbox(
            directory: directory.url.appendingPathComponent("outbox"), instance: "i", maxBatches: 1000,
            logger: Logger(label: "test"))
        let engine = try RuleEngine(
            store: MetricsStoreClient(baseURL: vm.url, step: .seconds(300)), outbox: outbox,
            stateDirectory: directory.url.appendingPathComponent("rules"), resendDelay: .seconds(60),
            defaultInterval: .seconds(60), clock: SystemTimeSource(), logger: Logger(label: "test"),
            boundary: .unrestricted,  // vmalert has no customer ceiling; compared as it is
            onHealthChange: {})
        await engine.update(
            DesiredState(
                tenant: "t", environment: "e", revision: 1,
                workspaces: [
                    DesiredWorkspace(name: "w", generation: 1, ruleGroups: groups)
                ]))

        var ours: [AgentAlert] = []
        let deadline = ContinuousClock.now + .seconds(40)
        func resolvedCount(_ alerts: [(Bool, String)]) -> Int { Set(alerts.filter(\.0).map(\.1)).count }
        while ContinuousClock.now < deadline {
            while let batch = try await outbox.head() {
                ours += batch.alerts
                try await outbox.acknowledge(batch)
            }
            let oursResolved = Set(ours.filter { $0.state == .resolved }.map { $0.labels["instance"] ?? "" })
            let theirsResolved = Set(receiver.alerts.filter(\.isResolved).map { $0.labels["instance"] ?? "" })
            if oursResolved.count >= 3 && theirsResolved.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        await engine.stop()
        try await receiver.stop()

        // vmalert 1.79 adds an `alertgroup` label naming the rule group; Prometheus and the agent do not.
        let theirs = receiver.alerts.map { alert -> (Bool, Seen) in
            var labels = alert.labels
            labels["alertgroup"] = nil
            return (alert.isResolved, Seen(labels: labels, annotations: alert.annotations))
        }
        let oursSeen = ours.map { ($0.state == .resolved, Seen(labels: $0.labels, annotations: $0.annotations)) }
        let theirsFired = Set(theirs.filter { !$0.0 }.map(\.1)), oursFired = Set(oursSeen.filter { !$0.0 }.map(\.1))
        let theirsResolved = Set(theirs.filter(\.0).map(\.1)), oursResolved = Set(oursSeen.filter(\.0).map(\.1))

        #expect(theirsFired.count == 3, "vmalert fired: \(theirsFired)")
        #expect(oursFired == theirsFired, "ours: \(oursFired)\nvmalert: \(theirsFired)")
        #expect(oursResolved == theirsResolved, "ours: \(oursResolved)\nvmalert: \(theirsResolved)")
        #expect(!oursFired.contains { $0.labels["instance"] == "b" })
    }
}
