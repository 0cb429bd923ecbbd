import AlertRouting
import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Silences and inhibition, as Alertmanager's mute stages.
@Suite struct AlertMutingTests {
    static let routes = """
        receiver: hook
        group_wait: 0s
        group_interval: 1m
        repeat_interval: 1h
        group_by: [tenant, environment, alertname]
        """

    static let inhibit = """
        inhibit_rules:
          - source_matchers: ['severity="critical"']
            target_matchers: ['severity="warning"']
            equal: [tenant, environment]
        """

    @Test(arguments: TestStoreKind.allCases) func aSilenceMutesMatchingAlertsForItsWindowOnly(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        let now = h.clock.now()
        try await h.store.createSilence(
            Silence(
                id: "s1", matchers: [#"alertname="Maintenance""#, #"environment="prod""#], startsAt: now,
                endsAt: now.addingTimeInterval(1800), createdBy: "alice", comment: "planned", createdAt: now, state: .active))
        try await h.send([h.firing("Maintenance"), h.firing("BackendDown")])
        try await h.send([h.firing("Maintenance")], environment: "dev")
        try await h.step()
        #expect(h.hook.map(summary).sorted() == ["firing: BackendDown/firing", "firing: Maintenance/firing"])
        #expect(h.hook.allSatisfy { $0["commonLabels"]?["environment"] != "prod" || $0["commonLabels"]?["alertname"] != "Maintenance" })
        try await h.run(30, every: .seconds(60))  // the silence ends after 30 minutes
        #expect(h.hook.contains { $0["commonLabels"]?["environment"] == "prod" && $0["commonLabels"]?["alertname"] == "Maintenance" })
    }

    @Test(arguments: TestStoreKind.allCases) func aFiringCriticalInhibitsWarningsOfTheSameEnvironment(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, inhibitRules: Self.inhibit, store: kind)
        defer { Task { try? await h.stop() } }
        let critical = h.firing("BackendDown", severity: "critical")
        try await h.send([critical, h.firing("LatencyHigh", severity: "warning")])
        try await h.send([h.firing("LatencyHigh", severity: "warning")], environment: "dev")
        try await h.step()
        #expect(h.hook.map(summary).sorted() == ["firing: BackendDown/firing", "firing: LatencyHigh/firing"])
        #expect(
            h.hook.first { summary($0) == "firing: LatencyHigh/firing" }?["commonLabels"]?["environment"] == "dev",
            "prod's warning is inhibited, dev's is not")
        try await h.send([h.resolved(critical)])
        try await h.step(by: .seconds(60))
        #expect(
            h.hook.contains { summary($0) == "firing: LatencyHigh/firing" && $0["commonLabels"]?["environment"] == "prod" },
            "once the critical resolved, the warning is notified")
    }

    @Test func twoAlertsMatchingBothSidesDoNotInhibitEachOther() throws {
        let rule = InhibitRule(
            sourceMatchers: [try LabelMatcher.parse("severity=critical")],
            targetMatchers: [try LabelMatcher.parse("severity=~critical|warning")], equal: ["tenant"])
        let a = ["severity": "critical", "tenant": "acme", "alertname": "A"]
        let b = ["severity": "critical", "tenant": "acme", "alertname": "B"]
        #expect(!rule.inhibits(target: a, source: b))
        #expect(rule.inhibits(target: ["severity": "warning", "tenant": "acme"], source: b))
        #expect(!rule.inhibits(target: ["severity": "warning", "tenant": "globex"], source: b), "equal labels differ")
    }
}
