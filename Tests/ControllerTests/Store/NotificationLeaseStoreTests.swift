import ControllerModel
import Foundation
import PostgresDriver
import SQLStorage
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Claims on the outbox between processes. A claim lasts `storeLease` (30 s); only its holder may begin an
/// attempt, record an outcome or renew it. What differs by kind is who else there can be:
/// - SQLite has one process per file, so opening the file again (a restart) releases every claim at once
///   (`SQLiteDatabase.init`).
/// - PostgreSQL has several replicas on one database, so another replica's claim holds until its lease
///   runs out; the tests marked "PostgreSQL only" open two replicas (`a`, `b`) on one database
///   (`withTwoReplicas`), as `PostgresReplicaTests` does.
@Suite struct NotificationLeaseStoreTests {
    /// What a restarted process opens: the same database, a replica id of its own. Closed after `body`.
    static func withReopened(_ opened: TestStore, replicaID: String, _ body: (SQLStore) async throws -> Void) async throws {
        let store: SQLStore
        switch opened.kind {
        case .sqlite: store = try SQLStore.sqlite(path: opened.databasePath, replicaID: replicaID)
        case .postgres:
            store = try await SQLStore.postgres(try PostgresURL(opened.databasePath), logger: quietLogger, replicaID: replicaID, maximumConnections: 2)
        }
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Kind-specific where noted: when the restarted process may take the claim over.
    @Test(arguments: TestStoreKind.allCases) func aRestartedProcessTakesOverWhatTheOldOneClaimedAndFencesItOff(_ kind: TestStoreKind) async throws {
        try await withTestStore(kind) { opened in
            let old = opened.store
            let id = try #require(try await pendingNotifications(old, ["Down"], at: t(30)).first)
            _ = try await old.dueNotifications(at: t(30), limit: 10)
            #expect(try await old.beginDeliveryAttempt(id: id, at: t(30)), "claimed until t(60), the attempt written down, then the process dies")

            try await Self.withReopened(opened, replicaID: "restarted") { restarted in
                let takeOver: Date
                switch kind {
                case .sqlite:
                    // SQLite only: the file has one process, so the claims it finds are a dead predecessor's.
                    takeOver = t(30)
                case .postgres:
                    // PostgreSQL only: the old replica may still be alive; its claim holds until the lease runs out.
                    takeOver = t(30 + storeLease)
                    #expect(try await restarted.dueNotifications(at: takeOver.addingTimeInterval(-1), limit: 10).isEmpty)
                }
                #expect(try await restarted.nextNotificationAttempt() == takeOver)
                let taken = try await restarted.dueNotifications(at: takeOver, limit: 10)
                #expect(taken.map(\.id) == [id])
                #expect(taken.first?.unrecordedAttemptAt == t(30), "the taker knows the receiver may have it")

                // Both kinds: the old process, back, may neither send, renew nor record.
                let after = takeOver.addingTimeInterval(1)
                #expect(try await old.beginDeliveryAttempt(id: id, at: after) == false)
                let record = try await notificationRecord(restarted, id)
                try await old.renewDeliveryLeases(at: after)
                try await old.recordDelivery(id: id, .sent, at: after)
                #expect(try await notificationRecord(restarted, id) == record)
                #expect(
                    try await restarted.nextNotificationAttempt() == takeOver.addingTimeInterval(storeLease), "the new holder's lease, not renewed by the old")

                #expect(try await restarted.beginDeliveryAttempt(id: id, at: after))
                try await restarted.recordDelivery(id: id, .sent, at: after.addingTimeInterval(1))
                let sent = try await notificationRecord(old, id)
                #expect(sent.state == .sent && sent.attempts == 1 && sent.sentAt == after.addingTimeInterval(1))
            }
        }
    }

    /// PostgreSQL only: replicas claiming at the same instant never get the same notification, and
    /// between them they get every due one.
    @Test func concurrentClaimsFromTwoReplicasSplitTheOutbox() async throws {
        try await withTwoReplicas { a, b in
            let ids = try await pendingNotifications(a, (1...6).map { "N\($0)" }, at: t(30))
            async let fromA = a.dueNotifications(at: t(30), limit: 10)
            async let fromB = b.dueNotifications(at: t(30), limit: 10)
            let (claimedA, claimedB) = try await (fromA, fromB)
            #expect(Set(claimedA.map(\.id)).isDisjoint(with: claimedB.map(\.id)))
            #expect(Set(claimedA.map(\.id) + claimedB.map(\.id)) == Set(ids))
            #expect(try await a.dueNotifications(at: t(59), limit: 10).isEmpty)
            #expect(try await b.dueNotifications(at: t(59), limit: 10).isEmpty)
        }
    }

    /// PostgreSQL only: a claim stays with its replica until recorded or until its lease runs out; the
    /// other replica can neither send it, record it nor renew it, and takes it over only then.
    @Test func aClaimStaysWithItsReplicaUntilItsLeaseRunsOut() async throws {
        try await withTwoReplicas { a, b in
            let ids = try await pendingNotifications(a, ["One", "Two", "Three"], at: t(30))
            #expect(try await a.dueNotifications(at: t(30), limit: 2).map(\.id) == [ids[0], ids[1]])
            #expect(try await b.dueNotifications(at: t(30), limit: 10).map(\.id) == [ids[2]], "only what a does not hold")
            #expect(try await b.dueNotifications(at: t(59), limit: 10).isEmpty, "a's claims hold for the lease")
            #expect(try await b.nextNotificationAttempt() == t(60))

            // Not the holder: no attempt, and its outcomes change nothing.
            #expect(try await b.beginDeliveryAttempt(id: ids[0], at: t(31)) == false)
            let held = try await notificationRecord(a, ids[0])
            try await b.recordDelivery(id: ids[0], .sent, at: t(31))
            try await b.recordDelivery(id: ids[0], .failed("not mine"), at: t(31))
            #expect(try await notificationRecord(a, ids[0]) == held)
            #expect(held.state == .pending && held.attempts == 0 && held.lastError == nil)

            // Each renews only its own: a's One and Two until t(80), b's Three until t(85).
            try await a.renewDeliveryLeases(at: t(50))
            try await b.renewDeliveryLeases(at: t(55))
            #expect(try await b.dueNotifications(at: t(79), limit: 10).isEmpty, "renewed by their holder")
            #expect(try await a.nextNotificationAttempt() == t(80))
            try await a.recordDelivery(id: ids[1], .sent, at: t(60))
            #expect(try await notificationRecord(b, ids[1]).state == .sent, "the holder records")

            // a goes quiet: at t(80) b takes One over (b's renewal did not extend a's lease).
            #expect(try await b.dueNotifications(at: t(80), limit: 10).map(\.id) == [ids[0]])
            #expect(try await a.beginDeliveryAttempt(id: ids[0], at: t(81)) == false, "fenced off")
            let takenOver = try await notificationRecord(a, ids[0])
            try await a.renewDeliveryLeases(at: t(81))
            try await a.recordDelivery(id: ids[0], .failed("late answer"), at: t(81))
            #expect(try await notificationRecord(a, ids[0]) == takenOver)
            #expect(try await a.dueNotifications(at: t(84), limit: 10).isEmpty, "b holds One until t(110) and Three until t(85)")

            #expect(try await b.beginDeliveryAttempt(id: ids[0], at: t(82)))
            try await b.recordDelivery(id: ids[0], .sent, at: t(83))
            #expect(try await a.notifications(groupID: "g-One", limit: 10).map(\.state) == [.sent])
        }
    }
}
