import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Grouping, timers, repeat, acknowledgement and resolution, on a manual clock.
@Suite struct AlertNotificationTests {
    static let routes = """
        receiver: none
        group_wait: 30s
        group_interval: 5m
        routes:
          - matchers: ['severity="critical"']
            receiver: hook
            repeat_interval: 15m
          - matchers: ['severity="warning"']
            receiver: hook
            repeat_interval: 4h
            ack_timeout: 1h
          - matchers: ['severity="info"']
            receiver: hook
            repeat_interval: never
        """

    @Test(arguments: TestStoreKind.allCases) func criticalRepeatsUntilAcknowledgedAndANewAlertRearms(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        let down = h.firing("BackendDown", summary: "backend is down")
        try await h.send([down])
        try await h.step(by: .seconds(29))
        #expect(h.hook.isEmpty, "group_wait has not passed")
        try await h.step(by: .seconds(1))
        #expect(h.hook.map(summary) == ["firing: BackendDown/firing"])

        try await h.run(2, every: .seconds(300))  // 10m30s: nothing new, repeat not due
        #expect(h.hook.count == 1)
        try await h.step(by: .seconds(300))  // 15m30s: repeat_interval passed
        #expect(h.hook.map(summary) == ["firing: BackendDown/firing", "firing: BackendDown/firing"])

        let group = try #require(try await h.groups().first)
        _ = try await h.store.setAcknowledgement(groupID: group.id, Acknowledgement(by: "alice", at: h.clock.now(), via: "api"), at: h.clock.now())
        try await h.run(12, every: .seconds(300))  // an hour acknowledged: silence
        #expect(h.hook.count == 2)

        try await h.send([down, h.firing("QueueStuck")])  // joins the group only if grouped together
        try await h.step(by: .seconds(300))
        // QueueStuck has another alertname: its own group, its own group_wait (30s, already passed).
        #expect(h.hook.map(summary).last == "firing: QueueStuck/firing")
        #expect(try await h.groups().first { $0.id == group.id }?.acknowledgement?.by == "alice", "another group does not re-arm this one")

        try await h.send([h.firing("BackendDown", extra: ["instance": "b"])])  // same alertname: joins, re-arms
        try await h.step(by: .seconds(300))
        #expect(h.hook.map(summary).last == "firing: BackendDown/firing,BackendDown/firing")
        #expect(try await h.groups().first { $0.id == group.id }?.acknowledgement == nil)
    }

    @Test(arguments: TestStoreKind.allCases) func resolvedIsSentOnceAndFiringAgainNotifies(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        let down = h.firing("BackendDown")
        try await h.send([down])
        try await h.step(by: .seconds(30))
        let group = try #require(try await h.groups().first)
        _ = try await h.store.setAcknowledgement(groupID: group.id, Acknowledgement(by: "bob", at: h.clock.now(), via: "slack"), at: h.clock.now())
        try await h.send([h.resolved(down)])
        try await h.step(by: .seconds(300))
        #expect(h.hook.map(summary) == ["firing: BackendDown/firing", "resolved: BackendDown/resolved"])
        #expect(try await h.groups().isEmpty, "a group with only notified resolved alerts goes away")
        try await h.run(6, every: .seconds(300))
        #expect(h.hook.count == 2, "nothing more once resolved")

        try await h.send([h.firing("BackendDown")])
        try await h.step(by: .seconds(30))
        #expect(h.hook.map(summary).last == "firing: BackendDown/firing", "firing again notifies, acknowledgement gone with the group")
    }

    @Test(arguments: TestStoreKind.allCases) func ackTimeoutRenotifiesAnAcknowledgedGroupStillFiring(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("DiskFilling", severity: "warning")])
        try await h.step(by: .seconds(30))
        let group = try #require(try await h.groups().first)
        _ = try await h.store.setAcknowledgement(
            groupID: group.id, Acknowledgement(by: "carol", at: h.clock.now(), via: "api", comment: "looking"),
            at: h.clock.now())
        try await h.run(11, every: .seconds(300))  // 55 minutes
        #expect(h.hook.count == 1)
        try await h.step(by: .seconds(300))  // the hour has passed
        #expect(h.hook.count == 2)
        #expect(try await h.groups().first?.acknowledgement == nil, "the acknowledgement expired; the group repeats again")
    }

    @Test(arguments: TestStoreKind.allCases) func infoNeverRepeats(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("CompactionSlow", severity: "info")])
        try await h.step(by: .seconds(30))
        try await h.run(30, every: .seconds(3600))
        #expect(h.hook.count == 1)
    }

    @Test(arguments: TestStoreKind.allCases) func alertsWhoseValidityRanOutResolve(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        var alert = h.firing("BackendDown")
        alert.endsAt = h.clock.now().addingTimeInterval(120)  // the agent stops refreshing it
        try await h.send([alert])
        try await h.step(by: .seconds(30))
        try await h.step(by: .seconds(300))
        #expect(h.hook.map(summary) == ["firing: BackendDown/firing", "resolved: BackendDown/resolved"])
    }

    @Test(arguments: TestStoreKind.allCases) func groupWaitIsSkippedForAlertsActiveLongerThanIt(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        var old = h.firing("BackendDown")
        old.startsAt = h.clock.now().addingTimeInterval(-600)
        try await h.send([old])
        try await h.step()
        #expect(h.hook.count == 1, "Alertmanager flushes at once when startsAt + group_wait has passed")
    }

    @Test(arguments: TestStoreKind.allCases) func groupsByTenantEnvironmentAndAlertnameByDefault(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown", extra: ["instance": "a"]), h.firing("BackendDown", extra: ["instance": "b"])])
        try await h.send([h.firing("BackendDown")], environment: "dev")
        try await h.step(by: .seconds(30))
        let groups = try await h.groups()
        #expect(groups.count == 2)
        #expect(Set(groups.map { $0.groupLabels["environment"] ?? "" }) == ["prod", "dev"])
        #expect(groups.first { $0.groupLabels["environment"] == "prod" }?.firing == 2)
        let payload = try #require(h.hook.first { $0["groupLabels"]?["environment"]?.stringValue == "prod" })
        #expect(payload["version"] == "4")
        #expect(payload["commonLabels"]?["tenant"] == "acme")
        #expect(payload["alerts"]?[0]?["endsAt"] == "0001-01-01T00:00:00Z")
        #expect(payload["alerts"]?[0]?["labels"]?["workspace"] == "analytics")
    }
}
