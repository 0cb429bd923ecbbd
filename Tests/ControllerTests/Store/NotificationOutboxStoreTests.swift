import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The notification outbox through the store alone, one process: claiming due notifications
/// (`dueNotifications`), `nextNotificationAttempt`, the fence before a send (`beginDeliveryAttempt`),
/// `renewDeliveryLeases`, each `DeliveryOutcome` (`recordDelivery`) and the record operators see
/// (`notifications`). SQLite and PostgreSQL run the same claim statements, so every expectation here
/// holds on both; what only several replicas show is in `NotificationLeaseStoreTests`.
@Suite struct NotificationOutboxStoreTests {
    @Test(arguments: TestStoreKind.allCases) func dueNotificationsComeByAttemptTimeThenIDUpToTheLimit(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.dueNotifications(at: t(1000), limit: 10).isEmpty)
            let ids = try await pendingNotifications(store, ["A", "B", "C"], at: t(30))
            #expect(ids == ids.sorted() && Set(ids).count == 3)
            #expect(try await store.dueNotifications(at: t(29), limit: 10).isEmpty, "not due before its first attempt time")
            #expect(try await store.dueNotifications(at: t(30), limit: 0).isEmpty, "a limit of 0 claims nothing")

            let firstTwo = try await store.dueNotifications(at: t(30), limit: 2)
            #expect(firstTwo.map(\.id) == [ids[0], ids[1]])
            #expect(firstTwo.map(\.content.groupID) == ["g-A", "g-B"])
            #expect(firstTwo.allSatisfy { $0.integration == "slack" && $0.attempts == 0 && $0.unrecordedAttemptAt == nil })
            #expect(try await store.dueNotifications(at: t(30), limit: 10).map(\.id) == [ids[2]], "the rest, not what is claimed")
            #expect(try await store.dueNotifications(at: t(30), limit: 10).isEmpty)

            // Handed back with new times: the attempt time orders them, the id breaks ties.
            try await store.recordDelivery(id: ids[0], .deferred(until: t(50)), at: t(31))
            try await store.recordDelivery(id: ids[1], .deferred(until: t(40)), at: t(31))
            try await store.recordDelivery(id: ids[2], .deferred(until: t(40)), at: t(31))
            #expect(try await store.dueNotifications(at: t(39), limit: 10).isEmpty)
            #expect(try await store.dueNotifications(at: t(45), limit: 10).map(\.id) == [ids[1], ids[2]])
            #expect(try await store.dueNotifications(at: t(50), limit: 10).map(\.id) == [ids[0]])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aClaimCarriesTheContentThePlanWrote(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down", labels: ["severity": "critical"], value: 3)], at: t(0))
            let seen = SeenSnapshots()
            try await store.flushAlertGroup(id: "g-Down", at: t(30), plan: notifyingPlan(at: t(30), integrations: ["team/slack/0"], seen: seen))
            let snapshot = try #require(seen.all.first)
            let claimed = try #require(try await store.dueNotifications(at: t(30), limit: 10).first)
            #expect(claimed.integration == "team/slack/0")
            #expect(claimed.content == notificationContent(snapshot, at: t(30)))
            #expect(claimed.content.firing.first?.value == 3 && claimed.content.firing.first?.labels["severity"] == "critical")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func theNextAttemptIsTheEarliestPendingOneAndAClaimCountsFromItsLeaseEnd(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.nextNotificationAttempt() == nil)
            let ids = try await pendingNotifications(store, ["A", "B", "C"], at: t(30))
            #expect(try await store.nextNotificationAttempt() == t(30))
            _ = try await store.dueNotifications(at: t(30), limit: 1)
            #expect(try await store.nextNotificationAttempt() == t(30), "B and C are still due")
            _ = try await store.dueNotifications(at: t(30), limit: 10)
            #expect(try await store.nextNotificationAttempt() == t(30 + storeLease), "all claimed: when the first lease runs out")

            try await store.recordDelivery(id: ids[0], .sent, at: t(31))
            try await store.recordDelivery(id: ids[1], .failed("HTTP 400"), at: t(31))
            try await store.recordDelivery(id: ids[2], .deferred(until: t(100)), at: t(31))
            #expect(try await store.nextNotificationAttempt() == t(100), "sent and failed ones no longer count")
            try await store.flushAlertGroup(id: "g-C", at: t(330), plan: notifyingPlan(at: t(330)))
            #expect(try await store.nextNotificationAttempt() == t(330), "a superseded one no longer counts")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func anAttemptBeginsOnlyOnAClaimedPendingNotificationAndKeepsTheEarliestTime(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let id = try #require(try await pendingNotifications(store, ["Down"], at: t(30)).first)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(30)) == false, "not claimed: nothing may be sent")
            #expect(try await notificationRecord(store, id).unansweredSince == nil)

            _ = try await store.dueNotifications(at: t(30), limit: 10)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(31)))
            #expect(try await notificationRecord(store, id).unansweredSince == t(31))
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(35)))
            #expect(try await notificationRecord(store, id).unansweredSince == t(31), "the earliest attempt: the receiver may have had it since")
            #expect(try await store.nextNotificationAttempt() == t(35 + storeLease), "an attempt renews the lease")

            // Unanswered, then claimed again: the new claim carries the first attempt's time.
            try await store.recordDelivery(id: id, .outcomeUnknown(retryAt: t(40), error: "timeout"), at: t(36))
            let again = try #require(try await store.dueNotifications(at: t(40), limit: 10).first)
            #expect(again.id == id && again.attempts == 1 && again.unrecordedAttemptAt == t(31))
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(41)))
            #expect(try await notificationRecord(store, id).unansweredSince == t(31))

            try await store.recordDelivery(id: id, .sent, at: t(42))
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(43)) == false, "sent: never again")
            #expect(try await store.beginDeliveryAttempt(id: 999_999, at: t(43)) == false)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func renewingExtendsOnlyLeasesStillHeld(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let id = try #require(try await pendingNotifications(store, ["Down"], at: t(30)).first)
            try await store.renewDeliveryLeases(at: t(30))
            #expect(try await store.nextNotificationAttempt() == t(30), "nothing claimed, nothing renewed")

            _ = try await store.dueNotifications(at: t(30), limit: 10)
            try await store.renewDeliveryLeases(at: t(50))
            #expect(try await store.nextNotificationAttempt() == t(50 + storeLease))
            #expect(try await store.dueNotifications(at: t(50 + storeLease - 1), limit: 10).isEmpty)
            // A lease that ran out is not brought back by a late renewal.
            try await store.renewDeliveryLeases(at: t(50 + storeLease))
            #expect(try await store.nextNotificationAttempt() == t(50 + storeLease))
            #expect(try await store.dueNotifications(at: t(50 + storeLease), limit: 10).map(\.id) == [id], "claimable again once it ran out")

            try await store.recordDelivery(id: id, .sent, at: t(90))
            try await store.renewDeliveryLeases(at: t(90))
            #expect(try await store.nextNotificationAttempt() == nil, "a recorded notification holds no lease")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func retryAndUnknownOutcomesCountAnAttemptDeferralDoesNot(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let id = try #require(try await pendingNotifications(store, ["Down"], at: t(30)).first)

            // retry: a definite answer (it did not arrive), so the attempt mark goes.
            _ = try await store.dueNotifications(at: t(30), limit: 10)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(30)))
            try await store.recordDelivery(id: id, .retry(at: t(40), error: "HTTP 503"), at: t(31))
            var record = try await notificationRecord(store, id)
            #expect(record.state == .pending && record.attempts == 1 && record.nextAttemptAt == t(40) && record.lastError == "HTTP 503")
            #expect(record.unansweredSince == nil && record.sentAt == nil)
            #expect(try await store.dueNotifications(at: t(39), limit: 10).isEmpty, "the claim is released, due again at the retry time")

            // outcomeUnknown: the receiver may have it, so the mark stays.
            #expect(try await store.dueNotifications(at: t(40), limit: 10).map(\.id) == [id])
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(40)))
            try await store.recordDelivery(id: id, .outcomeUnknown(retryAt: t(50), error: "request timed out"), at: t(41))
            record = try await notificationRecord(store, id)
            #expect(record.state == .pending && record.attempts == 2 && record.nextAttemptAt == t(50) && record.lastError == "request timed out")
            #expect(record.unansweredSince == t(40))

            // deferred: not attempted at all; the count, the last error and the mark stay.
            let claimed = try #require(try await store.dueNotifications(at: t(50), limit: 10).first)
            #expect(claimed.attempts == 2 && claimed.unrecordedAttemptAt == t(40))
            try await store.recordDelivery(id: id, .deferred(until: t(55)), at: t(50))
            record = try await notificationRecord(store, id)
            #expect(record.state == .pending && record.attempts == 2 && record.nextAttemptAt == t(55) && record.lastError == "request timed out")
            #expect(record.unansweredSince == t(40))

            // sent: everything about attempts is settled.
            _ = try await store.dueNotifications(at: t(55), limit: 10)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(55)))
            try await store.recordDelivery(id: id, .sent, at: t(56))
            record = try await notificationRecord(store, id)
            #expect(record.state == .sent && record.attempts == 3 && record.sentAt == t(56) && record.nextAttemptAt == nil)
            #expect(record.lastError == nil && record.unansweredSince == nil)
            #expect(try await store.dueNotifications(at: t(10_000), limit: 10).isEmpty)
            #expect(try await store.nextNotificationAttempt() == nil)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aFailedNotificationIsNeverAttemptedAgain(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let id = try #require(try await pendingNotifications(store, ["Down"], at: t(30)).first)
            _ = try await store.dueNotifications(at: t(30), limit: 10)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(30)))
            try await store.recordDelivery(id: id, .failed("HTTP 404: no such channel"), at: t(31))
            let record = try await notificationRecord(store, id)
            #expect(record.state == .failed && record.attempts == 1 && record.lastError == "HTTP 404: no such channel")
            #expect(record.nextAttemptAt == nil && record.sentAt == nil && record.unansweredSince == nil)
            #expect(try await store.dueNotifications(at: t(10_000), limit: 10).isEmpty)
            #expect(try await store.nextNotificationAttempt() == nil)
            #expect(try await store.beginDeliveryAttempt(id: id, at: t(32)) == false)
            // A later flush of the group does not supersede it: only pending ones are.
            try await store.flushAlertGroup(id: "g-Down", at: t(330), plan: notifyingPlan(at: t(330)))
            #expect(try await store.notifications(groupID: "g-Down", limit: 10).map(\.state) == [.pending, .failed])
        }
    }

    /// Only the process holding the claim records an outcome; with one process that means one it claimed
    /// and has not recorded yet.
    @Test(arguments: TestStoreKind.allCases) func anOutcomeIsRecordedOnlyForAClaimedPendingNotification(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let ids = try await pendingNotifications(store, ["A", "B"], at: t(30))
            let untouched = try await notificationRecord(store, ids[0])
            try await store.recordDelivery(id: ids[0], .failed("never claimed"), at: t(31))
            #expect(try await notificationRecord(store, ids[0]) == untouched, "not claimed: nothing recorded")

            _ = try await store.dueNotifications(at: t(30), limit: 10)
            try await store.recordDelivery(id: ids[1], .sent, at: t(31))
            let sent = try await notificationRecord(store, ids[1])
            try await store.recordDelivery(id: ids[1], .retry(at: t(40), error: "late"), at: t(32))
            try await store.recordDelivery(id: ids[1], .failed("late"), at: t(32))
            #expect(try await notificationRecord(store, ids[1]) == sent, "recorded once: later outcomes change nothing")
            try await store.recordDelivery(id: 999_999, .sent, at: t(33))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func notificationsAreListedNewestFirstPerGroupUpToTheLimit(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.notifications(groupID: nil, limit: 10).isEmpty)
            let ids = try await pendingNotifications(store, ["A", "B", "C"], at: t(30))
            // A's attempt goes unanswered, then a newer notification supersedes it.
            _ = try await store.dueNotifications(at: t(30), limit: 1)
            #expect(try await store.beginDeliveryAttempt(id: ids[0], at: t(30)))
            try await store.recordDelivery(id: ids[0], .outcomeUnknown(retryAt: t(40), error: "timeout"), at: t(31))
            #expect(try await notificationRecord(store, ids[0]).unansweredSince == t(30))
            try await store.flushAlertGroup(id: "g-A", at: t(330), plan: notifyingPlan(at: t(330)))
            let newest = try #require(try await store.notifications(groupID: "g-A", limit: 1).first)

            #expect(try await store.notifications(groupID: nil, limit: 10).map(\.id) == [newest.id, ids[2], ids[1], ids[0]])
            #expect(try await store.notifications(groupID: nil, limit: 2).map(\.id) == [newest.id, ids[2]])
            let a = try await store.notifications(groupID: "g-A", limit: 10)
            #expect(a.map(\.id) == [newest.id, ids[0]] && a.map(\.state) == [.pending, .superseded])
            #expect(
                a[1].unansweredSince == nil && a[1].attempts == 1 && a[1].lastError == "timeout",
                "a notification that will not be attempted again is not shown as unanswered")
            #expect(try await store.notifications(groupID: "g-B", limit: 10).map(\.id) == [ids[1]])
            #expect(try await store.notifications(groupID: "nope", limit: 10).isEmpty)
            #expect(try await store.notifications(groupID: nil, limit: 0).isEmpty)
        }
    }
}
