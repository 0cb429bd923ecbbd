import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Synchronization
import Testing

/// The alerting half of the store exercised directly (groups, flushes, the outbox and its claims), the
/// same expectations for SQLite and PostgreSQL. The pipeline tests in Alerting/ cover the decisions; these
/// pin down what each store method promises on its own.
@Suite struct AlertingStoreConformanceTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func with(_ kind: TestStoreKind, _ body: (any ControllerStore) async throws -> Void) async throws {
        let opened = try await TestStore.open(kind)
        do {
            _ = try await opened.store.createTenant(TenantRequest(name: "acme"), at: now)
            _ = try await opened.store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            _ = try await opened.store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: WorkspaceSpec(components: []),
                components: [], resolvedFor: EnvironmentSettings(), at: now)
            try await body(opened.store)
            await opened.close()
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Every alert joins group "g-<alertname>" on the root route, waiting 30 s.
    let assign: AlertAssigner = { alert in
        [
            GroupAssignment(
                groupID: "g-\(alert.labels["alertname"] ?? "")", route: "root", receiver: "team",
                groupLabels: ["alertname": alert.labels["alertname"] ?? ""], groupWait: .seconds(30))
        ]
    }

    func fire(_ store: any ControllerStore, _ name: String, sequence: Int64, state: AlertState = .firing, at time: Date) async throws {
        var alert = AgentAlert(workspace: "analytics", state: state, labels: ["alertname": name, "severity": "critical"], annotations: [:], startsAt: now)
        if state == .resolved { alert.endsAt = time }
        _ = try await store.recordAlertBatch(
            tenant: "acme", environment: "prod", batch: AlertBatch(instance: "agent-1", sequence: sequence, alerts: [alert]),
            at: time, assign: assign)
    }

    func content(_ snapshot: AlertGroupSnapshot, at time: Date) -> NotificationContent {
        NotificationContent(
            groupID: snapshot.id, groupKey: NotificationContent.groupKey(route: snapshot.route, groupLabels: snapshot.groupLabels),
            route: snapshot.route, receiver: snapshot.receiver, groupLabels: snapshot.groupLabels,
            firing: snapshot.alerts.filter { $0.state == .firing }, resolved: snapshot.alerts.filter { $0.state == .resolved },
            reason: .new, acknowledgement: nil, repeatIntervalSeconds: 3600, groupIntervalSeconds: 300, createdAt: time)
    }

    /// A flush that notifies on "slack" with what the group holds and comes back in five minutes.
    func notifying(at time: Date, seen: Snapshots? = nil) -> @Sendable (AlertGroupSnapshot) -> AlertGroupFlush {
        { [self] snapshot in
            seen?.record(snapshot)
            let firing = Set(snapshot.alerts.filter { $0.state == .firing }.map(\.key))
            return AlertGroupFlush(
                nextFlushAt: time.addingTimeInterval(300), notified: (time, firing, []), acknowledgement: snapshot.acknowledgement,
                notifications: [.init(integration: "slack", content: content(snapshot, at: time))],
                removeAlerts: snapshot.alerts.filter { $0.state == .resolved })
        }
    }

    @Test(arguments: TestStoreKind.allCases) func groupsFormAndComeDueAfterTheirWait(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            #expect(try await store.nextAlertGroupFlush() == nil)
            try await fire(store, "Down", sequence: 1, at: now)
            try await fire(store, "Slow", sequence: 2, at: now.addingTimeInterval(10))
            #expect(try await store.nextAlertGroupFlush() == now.addingTimeInterval(30))
            #expect(try await store.dueAlertGroups(at: now.addingTimeInterval(29)).isEmpty)
            #expect(try await store.dueAlertGroups(at: now.addingTimeInterval(30)) == ["g-Down"])
            #expect(Set(try await store.dueAlertGroups(at: now.addingTimeInterval(40))) == ["g-Down", "g-Slow"])

            let groups = try await store.alertGroups(tenant: "acme", at: now)
            #expect(groups.map(\.id).sorted() == ["g-Down", "g-Slow"])
            #expect(groups.allSatisfy { $0.firing == 1 && $0.resolved == 0 && $0.receiver == "team" && $0.lastNotifiedAt == nil })
            #expect(try await store.alertGroups(tenant: "beta", at: now).isEmpty)
            let down = try #require(try await store.alertGroup(id: "g-Down", at: now))
            #expect(down.groupLabels == ["alertname": "Down"] && down.alerts?.map(\.labels["alertname"]) == ["Down"])
            #expect(try await store.alertGroup(id: "nope", at: now) == nil)

            // Another alert joining an existing group does not restart its wait.
            try await fire(store, "Down", sequence: 3, state: .resolved, at: now.addingTimeInterval(20))
            #expect(try await store.alertGroup(id: "g-Down", at: now)?.nextFlushAt == now.addingTimeInterval(30))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aFlushWritesItsPlanInOneGo(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            try await fire(store, "Down", sequence: 1, at: now)
            let flushAt = now.addingTimeInterval(30)
            let seen = Snapshots()
            try await store.flushAlertGroup(id: "g-Down", at: flushAt, plan: notifying(at: flushAt, seen: seen))
            let snapshot = try #require(seen.all.first)
            #expect(snapshot.alerts.count == 1 && snapshot.lastNotifiedAt == nil && snapshot.notifiedFiring.isEmpty && snapshot.nextFlushAt == flushAt)

            let group = try #require(try await store.alertGroup(id: "g-Down", at: flushAt))
            #expect(group.lastNotifiedAt == flushAt && group.nextFlushAt == flushAt.addingTimeInterval(300))
            #expect(try await store.nextAlertGroupFlush() == flushAt.addingTimeInterval(300))
            let records = try await store.notifications(groupID: "g-Down", limit: 10)
            #expect(records.count == 1 && records[0].state == .pending && records[0].integration == "slack" && records[0].firing == 1)

            // The next flush sees the notification log the last one wrote.
            let later = flushAt.addingTimeInterval(300)
            try await store.flushAlertGroup(id: "g-Down", at: later, plan: notifying(at: later, seen: seen))
            let second = try #require(seen.all.last)
            #expect(second.lastNotifiedAt == flushAt && second.notifiedFiring == Set(snapshot.alerts.map(\.key)))
            // A newer notification for the same group and integration supersedes the one not yet sent.
            let states = try await store.notifications(groupID: "g-Down", limit: 10).map(\.state)
            #expect(states == [.pending, .superseded])

            // A round flushes only the groups that are due.
            try await fire(store, "Down", sequence: 2, state: .resolved, at: later.addingTimeInterval(1))
            try await store.flushAlertGroups(ids: ["g-Down"], at: later.addingTimeInterval(2), plan: notifying(at: later.addingTimeInterval(2), seen: seen))
            #expect(seen.all.count == 2)
            // Resolved alerts the flush dealt with leave; the empty group goes.
            let third = later.addingTimeInterval(300)
            try await store.flushAlertGroups(ids: ["g-Down"], at: third, plan: notifying(at: third))
            #expect(try await store.alertGroup(id: "g-Down", at: later) == nil)
            #expect(try await store.nextAlertGroupFlush() == nil)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func acknowledgementsAreSetAndCleared(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            try await fire(store, "Down", sequence: 1, at: now)
            let ack = Acknowledgement(by: "alice@qbeast.io", at: now, via: "api", comment: "looking")
            #expect(try await store.setAcknowledgement(groupID: "g-Down", ack, at: now).acknowledgement == ack)
            #expect(try await store.alertGroup(id: "g-Down", at: now)?.acknowledgement == ack)
            let seen = Snapshots()
            try await store.flushAlertGroup(id: "g-Down", at: now.addingTimeInterval(30), plan: notifying(at: now.addingTimeInterval(30), seen: seen))
            #expect(seen.all.first?.acknowledgement == ack, "a flush reads the acknowledgement")
            #expect(try await store.setAcknowledgement(groupID: "g-Down", nil, at: now).acknowledgement == nil)
            do {
                _ = try await store.setAcknowledgement(groupID: "nope", ack, at: now)
                Issue.record("acknowledging an unknown group succeeded")
            } catch let error as StoreError {
                guard case .notFound = error else { Issue.record("expected notFound, got \(error)"); return }
            }
        }
    }

    @Test(arguments: TestStoreKind.allCases) func theOutboxClaimsRecordsAndRetries(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            try await fire(store, "Down", sequence: 1, at: now)
            let flushAt = now.addingTimeInterval(30)
            try await store.flushAlertGroup(id: "g-Down", at: flushAt, plan: notifying(at: flushAt))
            #expect(try await store.nextNotificationAttempt() == flushAt)
            #expect(try await store.dueNotifications(at: flushAt.addingTimeInterval(-1), limit: 10).isEmpty)

            let claimed = try await store.dueNotifications(at: flushAt, limit: 10)
            let pending = try #require(claimed.first)
            #expect(claimed.count == 1 && pending.integration == "slack" && pending.attempts == 0 && pending.unrecordedAttemptAt == nil)
            #expect(pending.content.groupID == "g-Down" && pending.content.firing.count == 1)
            #expect(try await store.dueNotifications(at: flushAt, limit: 10).isEmpty, "a claimed notification is not handed out twice")
            #expect(try await store.nextNotificationAttempt()! > flushAt, "a claim counts from the end of its lease")

            // Begun but not answered: the mark stays through an unknown outcome, a definite answer clears it.
            #expect(try await store.beginDeliveryAttempt(id: pending.id, at: flushAt))
            try await store.recordDelivery(id: pending.id, .outcomeUnknown(retryAt: flushAt.addingTimeInterval(10), error: "timeout"), at: flushAt)
            var record = try #require(try await store.notifications(groupID: "g-Down", limit: 1).first)
            #expect(record.state == .pending && record.attempts == 1 && record.lastError == "timeout" && record.unansweredSince == flushAt)
            #expect(try await store.nextNotificationAttempt() == flushAt.addingTimeInterval(10))

            let retry = try #require(try await store.dueNotifications(at: flushAt.addingTimeInterval(10), limit: 10).first)
            #expect(retry.attempts == 1 && retry.unrecordedAttemptAt == flushAt)
            try await store.renewDeliveryLeases(at: flushAt.addingTimeInterval(10))
            #expect(try await store.beginDeliveryAttempt(id: retry.id, at: flushAt.addingTimeInterval(10)))
            try await store.recordDelivery(id: retry.id, .retry(at: flushAt.addingTimeInterval(20), error: "503"), at: flushAt.addingTimeInterval(10))
            record = try #require(try await store.notifications(groupID: "g-Down", limit: 1).first)
            #expect(record.attempts == 2 && record.unansweredSince == nil && record.nextAttemptAt == flushAt.addingTimeInterval(20))

            // Deferred (rate limit) does not count an attempt.
            let deferred = try #require(try await store.dueNotifications(at: flushAt.addingTimeInterval(20), limit: 10).first)
            try await store.recordDelivery(id: deferred.id, .deferred(until: flushAt.addingTimeInterval(25)), at: flushAt.addingTimeInterval(20))
            #expect(try await store.notifications(groupID: "g-Down", limit: 1).first?.attempts == 2)

            let last = try #require(try await store.dueNotifications(at: flushAt.addingTimeInterval(25), limit: 10).first)
            #expect(try await store.beginDeliveryAttempt(id: last.id, at: flushAt.addingTimeInterval(25)))
            try await store.recordDelivery(id: last.id, .sent, at: flushAt.addingTimeInterval(26))
            record = try #require(try await store.notifications(groupID: "g-Down", limit: 1).first)
            #expect(record.state == .sent && record.attempts == 3 && record.sentAt == flushAt.addingTimeInterval(26) && record.nextAttemptAt == nil)
            #expect(try await store.nextNotificationAttempt() == nil)
            #expect(try await store.dueNotifications(at: flushAt.addingTimeInterval(999), limit: 10).isEmpty)
            #expect(
                try await store.beginDeliveryAttempt(id: last.id, at: flushAt.addingTimeInterval(30)) == false,
                "a sent notification may not be attempted again")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func rebuildingKeepsTheNotificationLogOfGroupsThatStay(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            try await fire(store, "Down", sequence: 1, at: now)
            let flushAt = now.addingTimeInterval(30)
            try await store.flushAlertGroup(id: "g-Down", at: flushAt, plan: notifying(at: flushAt))
            try await store.rebuildAlertGroups(at: flushAt, assign: assign)
            #expect(try await store.alertGroup(id: "g-Down", at: flushAt)?.lastNotifiedAt == flushAt)

            // A new routing that groups differently: the old group goes, the new one waits afresh.
            try await store.rebuildAlertGroups(at: flushAt) { _ in
                [GroupAssignment(groupID: "g-all", route: "root", receiver: "team", groupLabels: [:], groupWait: .seconds(30))]
            }
            #expect(try await store.alertGroups(tenant: nil, at: flushAt).map(\.id) == ["g-all"])
            #expect(try await store.alertGroup(id: "g-all", at: flushAt)?.lastNotifiedAt == nil)
        }
    }
}

/// What the flush plans were shown, in order.
final class Snapshots: Sendable {
    private let snapshots = Mutex<[AlertGroupSnapshot]>([])
    func record(_ snapshot: AlertGroupSnapshot) { snapshots.withLock { $0.append(snapshot) } }
    var all: [AlertGroupSnapshot] { snapshots.withLock { $0 } }
}
