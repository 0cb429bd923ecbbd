import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Aggregation groups through the store alone: filing alerts into groups (`recordAlertBatch`), the
/// timers (`dueAlertGroups`, `nextAlertGroupFlush`), flushes (`flushAlertGroup`, `flushAlertGroups`),
/// reading (`alertGroups`, `alertGroup`), acknowledgements and `rebuildAlertGroups`. Every expectation
/// holds on SQLite and PostgreSQL alike.
@Suite struct AlertGroupStoreTests {
    // MARK: Filing

    @Test(arguments: TestStoreKind.allCases) func firingAlertsOpenGroupsAndResolvedOnesOnlyJoinThem(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            // A resolved alert whose group does not exist is stored, but opens no group.
            try await report(store, [agentAlert("Gone", .resolved)], at: t(0))
            #expect(try await store.alertGroups(tenant: nil, at: t(0)).isEmpty)
            #expect(try await store.alerts(AlertFilter()).map { $0.labels["alertname"] } == ["Gone"])
            #expect(try await store.nextAlertGroupFlush() == nil)

            // A firing alert opens its group with its assignment's route, receiver and labels, due after group_wait.
            try await report(store, [agentAlert("Down", labels: ["instance": "a"])], at: t(0))
            let opened = try #require(try await store.alertGroup(id: "g-Down", at: t(0)))
            #expect(opened.route == "root" && opened.receiver == "team" && opened.groupLabels == ["alertname": "Down"])
            #expect(opened.createdAt == t(0) && opened.nextFlushAt == t(30))
            #expect(opened.lastNotifiedAt == nil && opened.acknowledgement == nil)
            #expect(opened.firing == 1 && opened.resolved == 0)

            // A resolved alert assigned to an existing group joins it.
            try await report(store, [agentAlert("Down", .resolved, labels: ["instance": "b"], startsAt: t(5))], at: t(10))
            let joined = try #require(try await store.alertGroup(id: "g-Down", at: t(10)))
            #expect(joined.firing == 1 && joined.resolved == 1)
            #expect(joined.alerts?.map { $0.labels["instance"] } == ["a", "b"], "alerts in the order they started")
            #expect(joined.nextFlushAt == t(30), "joining does not restart the wait")

            // An alert with two assignments is in both groups.
            try await report(store, [agentAlert("Slow", startsAt: t(20))], at: t(20)) { _ in [assignment("g-one"), assignment("g-two")] }
            #expect(try await store.alertGroup(id: "g-one", at: t(20))?.alerts?.map { $0.labels["alertname"] } == ["Slow"])
            #expect(try await store.alertGroup(id: "g-two", at: t(20))?.alerts?.map { $0.labels["alertname"] } == ["Slow"])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func groupWaitCountsFromWhenTheAlertStarted(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            // Active longer than group_wait already: its new group is due at once.
            try await report(store, [agentAlert("Old", startsAt: t(0))], at: t(100))
            #expect(try await store.alertGroup(id: "g-Old", at: t(100))?.nextFlushAt == t(100))
            // Active exactly group_wait: not longer, so the group waits.
            try await report(store, [agentAlert("Exact", startsAt: t(70))], at: t(100))
            #expect(try await store.alertGroup(id: "g-Exact", at: t(100))?.nextFlushAt == t(130))

            // A group that never flushed is brought forward when an old alert joins it, never pushed back.
            try await report(store, [agentAlert("Down", labels: ["instance": "a"], startsAt: t(100))], at: t(100))
            #expect(try await store.alertGroup(id: "g-Down", at: t(100))?.nextFlushAt == t(130))
            try await report(store, [agentAlert("Down", labels: ["instance": "b"], startsAt: t(110))], at: t(110))
            #expect(try await store.alertGroup(id: "g-Down", at: t(110))?.nextFlushAt == t(130), "a fresh alert does not push it back")
            try await report(store, [agentAlert("Down", labels: ["instance": "c"], startsAt: t(0))], at: t(115))
            #expect(try await store.alertGroup(id: "g-Down", at: t(115))?.nextFlushAt == t(115), "an old alert brings it forward")

            // Once flushed, the group keeps its own timer whatever joins.
            try await store.flushAlertGroup(id: "g-Down", at: t(115), plan: quietPlan(at: t(115)))
            try await report(store, [agentAlert("Down", labels: ["instance": "d"], startsAt: t(0))], at: t(120))
            #expect(try await store.alertGroup(id: "g-Down", at: t(120))?.nextFlushAt == t(415))
        }
    }

    // MARK: Timers

    @Test(arguments: TestStoreKind.allCases) func dueGroupsComeInTimerOrderThenByID(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.nextAlertGroupFlush() == nil)
            #expect(try await store.dueAlertGroups(at: t(1000)).isEmpty)
            try await report(store, [agentAlert("Zeta"), agentAlert("Beta")], at: t(0))
            try await report(store, [agentAlert("Alpha", startsAt: t(5))], at: t(5))
            #expect(try await store.nextAlertGroupFlush() == t(30))
            #expect(try await store.dueAlertGroups(at: t(29)).isEmpty)
            #expect(try await store.dueAlertGroups(at: t(30)) == ["g-Beta", "g-Zeta"], "the same timer: by id")
            #expect(try await store.dueAlertGroups(at: t(40)) == ["g-Beta", "g-Zeta", "g-Alpha"], "by timer first")

            try await store.flushAlertGroups(ids: ["g-Beta", "g-Zeta"], at: t(30), plan: quietPlan(at: t(30), interval: 3))
            #expect(try await store.nextAlertGroupFlush() == t(33))
            #expect(try await store.dueAlertGroups(at: t(34)) == ["g-Beta", "g-Zeta"])
            #expect(try await store.dueAlertGroups(at: t(35)) == ["g-Beta", "g-Zeta", "g-Alpha"])
            try await store.flushAlertGroup(id: "g-Alpha", at: t(35), plan: quietPlan(at: t(35), interval: -4))
            #expect(try await store.dueAlertGroups(at: t(35)) == ["g-Alpha", "g-Beta", "g-Zeta"], "a timer in the past is due first")
            #expect(try await store.nextAlertGroupFlush() == t(31))
        }
    }

    // MARK: Flushing

    @Test(arguments: TestStoreKind.allCases) func aPlanSeesTheGroupAsStoredAndTheLogTheLastFlushWrote(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let down = agentAlert("Down", labels: ["severity": "critical"], value: 2.5)
            let gone = agentAlert("Down", .resolved, labels: ["instance": "b"], startsAt: t(3))
            try await report(store, [down], at: t(0))
            try await report(store, [gone], at: t(4))
            let seen = SeenSnapshots()
            try await store.flushAlertGroup(id: "g-Down", at: t(30), plan: quietPlan(at: t(30), seen: seen))
            let first = try #require(seen.all.first)
            #expect(first.id == "g-Down" && first.route == "root" && first.receiver == "team" && first.groupLabels == ["alertname": "Down"])
            #expect(first.createdAt == t(0) && first.nextFlushAt == t(30))
            #expect(first.lastNotifiedAt == nil && first.notifiedFiring.isEmpty && first.notifiedResolved.isEmpty && first.acknowledgement == nil)
            let stored = try await store.alerts(AlertFilter())
            #expect(first.alerts == stored, "the stored alerts, in the order they started")
            #expect(first.alerts.map(\.key) == [alertKey(down), alertKey(gone)])
            #expect(first.alerts.first?.value == 2.5 && first.alerts.first?.receivedAt == t(0))

            // The next flush sees the log this one writes.
            let ack = Acknowledgement(by: "alice", at: t(40), via: "api", comment: nil)
            _ = try await store.setAcknowledgement(groupID: "g-Down", ack, at: t(40))
            try await store.flushAlertGroup(
                id: "g-Down", at: t(330),
                plan: { snapshot in
                    seen.record(snapshot)
                    return AlertGroupFlush(
                        nextFlushAt: t(630), notified: (t(330), [alertKey(down)], [alertKey(gone)]), acknowledgement: snapshot.acknowledgement,
                        notifications: [], removeAlerts: [])
                })
            try await store.flushAlertGroup(id: "g-Down", at: t(630), plan: quietPlan(at: t(630), seen: seen))
            let third = try #require(seen.all.last)
            #expect(seen.all.count == 3)
            #expect(third.lastNotifiedAt == t(330) && third.notifiedFiring == [alertKey(down)] && third.notifiedResolved == [alertKey(gone)])
            #expect(third.acknowledgement == ack && third.nextFlushAt == t(630))
            #expect(try await store.alertGroup(id: "g-Down", at: t(630))?.lastNotifiedAt == t(330))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aFlushWritesItsNotificationsAndSupersedesPendingOnesOfTheSameIntegration(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down"), agentAlert("Slow")], at: t(0))
            try await report(store, [agentAlert("Down", .resolved, labels: ["instance": "b"], startsAt: t(2))], at: t(2))
            let seen = SeenSnapshots()
            try await store.flushAlertGroups(
                ids: ["g-Down", "g-Slow"], at: t(30), plan: notifyingPlan(at: t(30), integrations: ["slack", "hook"], seen: seen))
            let snapshot = try #require(seen.all.first)
            let content = notificationContent(snapshot, at: t(30))

            let written = try await store.notifications(groupID: "g-Down", limit: 10)
            #expect(written.map(\.integration) == ["hook", "slack"], "newest first")
            for record in written {
                #expect(record.groupID == "g-Down" && record.receiver == "team" && record.firing == 1 && record.resolved == 1)
                #expect(record.alertsHash == content.alertsHash && record.state == .pending && record.attempts == 0)
                #expect(record.createdAt == t(30) && record.nextAttemptAt == t(30))
                #expect(record.sentAt == nil && record.lastError == nil && record.unansweredSince == nil)
            }
            // The `hook` notification goes out; `slack` waits.
            let claimed = try await store.dueNotifications(at: t(30), limit: 10)
            let hook = try #require(claimed.first(where: { $0.integration == "hook" && $0.content.groupID == "g-Down" }))
            #expect(hook.content == content, "the content exactly as the plan wrote it")
            #expect(try await store.beginDeliveryAttempt(id: hook.id, at: t(31)))
            try await store.recordDelivery(id: hook.id, .sent, at: t(31))
            for other in claimed where other.id != hook.id { try await store.recordDelivery(id: other.id, .deferred(until: t(100)), at: t(31)) }

            // A newer notification on `slack` makes the pending one stale; the sent `hook` one and the other group's stay.
            try await store.flushAlertGroup(id: "g-Down", at: t(330), plan: notifyingPlan(at: t(330)))
            let records = try await store.notifications(groupID: "g-Down", limit: 10)
            #expect(records.map(\.integration) == ["slack", "hook", "slack"])
            #expect(records.map(\.state) == [.pending, .sent, .superseded])
            #expect(records[2].nextAttemptAt == nil, "a superseded notification is not attempted again")
            #expect(records[0].firing == 1 && records[0].resolved == 0, "the resolved alert left with the first flush")
            #expect(try await store.notifications(groupID: "g-Slow", limit: 10).map(\.state) == [.pending, .pending])
            #expect(Set(try await store.dueNotifications(at: t(1000), limit: 10).map(\.content.groupID)) == ["g-Down", "g-Slow"])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aFlushSetsAndClearsTheAcknowledgement(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down")], at: t(0))
            let ack = Acknowledgement(by: "slack:U123", at: t(20), via: "slack", comment: "on it")
            try await store.flushAlertGroup(
                id: "g-Down", at: t(30),
                plan: { _ in
                    AlertGroupFlush(nextFlushAt: t(330), notified: nil, acknowledgement: ack, notifications: [], removeAlerts: [])
                })
            #expect(try await store.alertGroup(id: "g-Down", at: t(30))?.acknowledgement == ack)
            try await store.flushAlertGroup(
                id: "g-Down", at: t(330),
                plan: { _ in
                    AlertGroupFlush(nextFlushAt: t(630), notified: nil, acknowledgement: nil, notifications: [], removeAlerts: [])
                })
            let group = try #require(try await store.alertGroup(id: "g-Down", at: t(330)))
            #expect(group.acknowledgement == nil && group.nextFlushAt == t(630))
            #expect(group.lastNotifiedAt == nil, "no log entry without `notified`")
            #expect(try await store.notifications(groupID: "g-Down", limit: 10).isEmpty)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func resolvedAlertsTheFlushDealtWithLeaveAndAnEmptyGroupGoes(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let a = agentAlert("Down", labels: ["instance": "a"])
            let b = agentAlert("Down", labels: ["instance": "b"])
            try await report(store, [a, b], at: t(0))
            try await report(store, [agentAlert("Down", .resolved, labels: ["instance": "b"], endsAt: t(10))], at: t(10))
            try await store.flushAlertGroup(id: "g-Down", at: t(30), plan: notifyingPlan(at: t(30)))
            let group = try #require(try await store.alertGroup(id: "g-Down", at: t(30)))
            #expect(group.alerts?.map(\.key) == [alertKey(a)] && group.firing == 1 && group.resolved == 0)
            #expect(try await store.alerts(AlertFilter()).count == 2, "leaving a group does not delete the alert")

            // Resolved alerts a plan does not remove stay.
            try await report(store, [agentAlert("Down", .resolved, labels: ["instance": "a"], endsAt: t(40))], at: t(40))
            try await store.flushAlertGroup(id: "g-Down", at: t(330), plan: quietPlan(at: t(330)))
            #expect(try await store.alertGroup(id: "g-Down", at: t(330))?.resolved == 1)

            // The last one leaving takes the group with it; its notifications stay on record.
            try await store.flushAlertGroup(id: "g-Down", at: t(630), plan: notifyingPlan(at: t(630)))
            #expect(try await store.alertGroup(id: "g-Down", at: t(630)) == nil)
            #expect(try await store.alertGroups(tenant: nil, at: t(630)).isEmpty)
            #expect(try await store.nextAlertGroupFlush() == nil)
            #expect(try await store.dueAlertGroups(at: t(10_000)).isEmpty)
            #expect(try await store.notifications(groupID: "g-Down", limit: 10).map(\.state) == [.pending, .superseded])
            #expect(try await store.alerts(AlertFilter(state: .resolved)).count == 2)

            // A firing alert of the same group later opens it afresh: no log, a new wait.
            try await report(store, [agentAlert("Down", labels: ["instance": "c"], startsAt: t(700))], at: t(700))
            let reopened = try #require(try await store.alertGroup(id: "g-Down", at: t(700)))
            #expect(reopened.createdAt == t(700) && reopened.nextFlushAt == t(730) && reopened.lastNotifiedAt == nil)
        }
    }

    /// `flushAlertGroups` may run after another replica flushed the same group (PostgreSQL), so a group
    /// whose timer is no longer due is left alone. The check is in the shared store, so SQLite keeps it too.
    @Test(arguments: TestStoreKind.allCases) func groupsThatAreNotDueOrGoneAreLeftAlone(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down")], at: t(0))
            try await report(store, [agentAlert("Late", startsAt: t(20))], at: t(20))
            let seen = SeenSnapshots()
            try await store.flushAlertGroup(id: "g-Down", at: t(29), plan: notifyingPlan(at: t(29), seen: seen))
            try await store.flushAlertGroup(id: "nope", at: t(29), plan: notifyingPlan(at: t(29), seen: seen))
            #expect(seen.all.isEmpty, "neither an early nor an unknown group is planned")
            #expect(try await store.alertGroup(id: "g-Down", at: t(29))?.nextFlushAt == t(30))
            #expect(try await store.notifications(groupID: nil, limit: 10).isEmpty)

            try await store.flushAlertGroups(ids: ["g-Down", "nope", "g-Late"], at: t(30), plan: notifyingPlan(at: t(30), seen: seen))
            #expect(seen.ids == ["g-Down"])
            // The same round again (a second replica that read the same due list): already flushed, not again.
            try await store.flushAlertGroups(ids: ["g-Down"], at: t(30), plan: notifyingPlan(at: t(30), seen: seen))
            #expect(seen.ids == ["g-Down"])
            #expect(try await store.notifications(groupID: nil, limit: 10).count == 1)
            #expect(try await store.alertGroup(id: "g-Late", at: t(30))?.nextFlushAt == t(50))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aRoundFlushesEveryDueGroupEachPlannedOnItsOwn(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            // More groups than one transaction of a round takes.
            let names = (1...20).map { String(format: "Alert%02d", $0) }
            try await report(store, names.map { agentAlert($0) }, at: t(0))
            let due = try await store.dueAlertGroups(at: t(30))
            #expect(due == names.map { "g-\($0)" })
            let seen = SeenSnapshots()
            try await store.flushAlertGroups(ids: due, at: t(30), plan: notifyingPlan(at: t(30), seen: seen))
            #expect(seen.ids == due)
            let planned = seen.all.map { snapshot in snapshot.alerts.compactMap { $0.labels["alertname"] } == [String(snapshot.id.dropFirst(2))] }
            #expect(planned == Array(repeating: true, count: 20), "each plan is shown its own group")
            #expect(try await store.dueAlertGroups(at: t(329)).isEmpty)
            #expect(try await store.nextAlertGroupFlush() == t(330))
            let records = try await store.notifications(groupID: nil, limit: 100)
            #expect(records.count == 20 && Set(records.map(\.groupID)) == Set(due))
        }
    }

    // MARK: Reading

    @Test(arguments: TestStoreKind.allCases) func groupsAreListedPerTenantWithCountsAtTheGivenTime(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "beta", "prod")
            try await report(store, [agentAlert("Down", endsAt: t(60))], at: t(0))
            try await report(store, [agentAlert("Shared", startsAt: t(1))], at: t(1))
            try await report(store, [agentAlert("Shared", startsAt: t(2))], at: t(2), tenant: "beta")
            try await report(store, [agentAlert("Beta", startsAt: t(3))], at: t(3), tenant: "beta")

            #expect(try await store.alertGroups(tenant: nil, at: t(30)).map(\.id) == ["g-Down", "g-Shared", "g-Beta"], "in the order they opened")
            #expect(try await store.alertGroups(tenant: "acme", at: t(30)).map(\.id) == ["g-Down", "g-Shared"])
            #expect(
                try await store.alertGroups(tenant: "beta", at: t(30)).map(\.id) == ["g-Shared", "g-Beta"], "a group with alerts of both is listed for both")
            #expect(try await store.alertGroups(tenant: "nope", at: t(30)).isEmpty)

            let listed = try await store.alertGroups(tenant: nil, at: t(30))
            #expect(listed.allSatisfy { $0.alerts == nil }, "lists leave the alerts out")
            let listedShared = try #require(listed.first(where: { $0.id == "g-Shared" }))
            #expect(listedShared.firing == 2 && listedShared.resolved == 0)
            var shared = try #require(try await store.alertGroup(id: "g-Shared", at: t(30)))
            #expect(shared.alerts?.map(\.tenant) == ["acme", "beta"])
            shared.alerts = nil
            #expect(listedShared == shared, "a listed group is the group without its alerts")

            // Firing until its validity ran out: counted as resolved after `endsAt`.
            #expect(try await store.alertGroup(id: "g-Down", at: t(59))?.firing == 1)
            let expired = try #require(try await store.alertGroups(tenant: "acme", at: t(60)).first(where: { $0.id == "g-Down" }))
            #expect(expired.firing == 0 && expired.resolved == 1)
            #expect(try await store.alertGroup(id: "nope", at: t(60)) == nil)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func acknowledgementsAreSetReplacedAndCleared(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down")], at: t(0))
            let first = Acknowledgement(by: "alice", at: t(10), via: "api", comment: nil)
            let set = try await store.setAcknowledgement(groupID: "g-Down", first, at: t(10))
            #expect(set.id == "g-Down" && set.acknowledgement == first && set.firing == 1 && set.alerts == nil)
            #expect(try await store.alertGroups(tenant: "acme", at: t(10)).first?.acknowledgement == first)

            let second = Acknowledgement(by: "bob", at: t(20), via: "slack", comment: "taking over")
            #expect(try await store.setAcknowledgement(groupID: "g-Down", second, at: t(20)).acknowledgement == second)
            #expect(try await store.alertGroup(id: "g-Down", at: t(20))?.acknowledgement == second)

            let cleared = try await store.setAcknowledgement(groupID: "g-Down", nil, at: t(25))
            #expect(cleared.acknowledgement == nil && cleared.nextFlushAt == t(30), "only the acknowledgement changes")
            #expect(try await store.alertGroup(id: "g-Down", at: t(25))?.acknowledgement == nil)

            await expectStoreError(.notFound("alert group \"nope\" not found (it may have resolved and been removed)")) {
                _ = try await store.setAcknowledgement(groupID: "nope", first, at: t(30))
            }
        }
    }

    // MARK: Rebuilding

    @Test(arguments: TestStoreKind.allCases) func aRebuildKeepsGroupsThatStayWithTheirLogAndAcknowledgement(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down")], at: t(0))
            try await store.flushAlertGroup(id: "g-Down", at: t(30), plan: notifyingPlan(at: t(30)))
            let ack = Acknowledgement(by: "alice", at: t(40), via: "api", comment: "known")
            _ = try await store.setAcknowledgement(groupID: "g-Down", ack, at: t(40))
            let before = try #require(try await store.alertGroup(id: "g-Down", at: t(50)))

            // The same route, plus a second one: `g-Down` keeps its identity, `g-all` is new.
            try await store.rebuildAlertGroups(at: t(60)) { alert in byAlertname()(alert) + [assignment("g-all")] }
            let after = try #require(try await store.alertGroup(id: "g-Down", at: t(50)))
            #expect(after == before, "log, acknowledgement, timer and alerts as they were")
            #expect(try await store.notifications(groupID: "g-Down", limit: 10).count == 1)
            let all = try #require(try await store.alertGroup(id: "g-all", at: t(60)))
            #expect(all.createdAt == t(60) && all.nextFlushAt == t(60), "the alert has waited long enough: due at once")
            #expect(all.lastNotifiedAt == nil && all.acknowledgement == nil && all.alerts?.count == 1)

            // The same routing again changes nothing.
            try await store.rebuildAlertGroups(at: t(70)) { alert in byAlertname()(alert) + [assignment("g-all")] }
            #expect(try await store.alertGroup(id: "g-Down", at: t(50)) == before)
            #expect(try await store.alertGroup(id: "g-all", at: t(60)) == all)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aRebuildDropsMembershipsRoutesNoLongerGive(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await report(store, [agentAlert("Down"), agentAlert("Slow")], at: t(0))
            // `Slow` is routed nowhere any more: its group goes; `Down` stays where it was.
            try await store.rebuildAlertGroups(at: t(10)) { alert in alert.labels["alertname"] == "Slow" ? [] : byAlertname()(alert) }
            #expect(try await store.alertGroups(tenant: nil, at: t(10)).map(\.id) == ["g-Down"])
            #expect(try await store.alerts(AlertFilter()).count == 2, "the alerts stay")

            // One group for everything: the old groups go, the new one holds both (`Slow` is firing, so it is filed again).
            try await store.rebuildAlertGroups(at: t(20)) { _ in [assignment("g-team")] }
            let groups = try await store.alertGroups(tenant: nil, at: t(20))
            #expect(groups.map(\.id) == ["g-team"])
            #expect(try await store.alertGroup(id: "g-team", at: t(20))?.alerts?.count == 2)
            // Neither alert has been active for group_wait yet: the new group waits it from now.
            #expect(try await store.nextAlertGroupFlush() == t(50))
            #expect(try await store.dueAlertGroups(at: t(49)).isEmpty)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aRebuildFilesFiringAlertsAndKeepsResolvedMembersOnly(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            // Stored while no route matched them.
            try await report(store, [agentAlert("Down"), agentAlert("Gone", .resolved)], at: t(0)) { _ in [] }
            #expect(try await store.alertGroups(tenant: nil, at: t(0)).isEmpty)
            // A resolved member of a group that stays.
            try await report(store, [agentAlert("Kept")], at: t(0))
            try await report(store, [agentAlert("Kept", .resolved, endsAt: t(5))], at: t(5))

            try await store.rebuildAlertGroups(at: t(100), assign: byAlertname())
            let groups = try await store.alertGroups(tenant: nil, at: t(100))
            #expect(Set(groups.map(\.id)) == ["g-Down", "g-Kept"], "a resolved alert in no group opens none")
            let down = try #require(groups.first(where: { $0.id == "g-Down" }))
            #expect(down.createdAt == t(100) && down.nextFlushAt == t(100) && down.firing == 1)
            let kept = try #require(groups.first(where: { $0.id == "g-Kept" }))
            #expect(kept.resolved == 1 && kept.createdAt == t(0), "a resolved member stays in a group that stays")
        }
    }
}
