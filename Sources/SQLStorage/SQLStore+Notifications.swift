import ControllerModel
import Foundation
import SplitPlaneProtocol

/// The notification outbox. A process claims due notifications for `leaseDuration` and sends what it
/// claimed; a claim that runs out (its process died) is taken over, with the mark of the attempt that
/// process may have made. With one process (SQLite) claiming always succeeds; the same statements
/// serve both databases.
extension SQLStore {
    /// Claims the due notifications no other replica holds a live lease on (on PostgreSQL `FOR UPDATE
    /// SKIP LOCKED`, so concurrent claims never block on or take each other's rows).
    public func dueNotifications(at now: Date, limit: Int) async throws -> [PendingNotification] {
        let (replicaID, leaseUntil, dialect) = (self.replicaID, now.addingTimeInterval(leaseDuration), self.dialect)
        return try await database.write { db in
            try await db.rows(
                """
                UPDATE notifications SET claimed_by = \(replicaID), lease_until = \(leaseUntil)
                WHERE id IN (
                    SELECT id FROM notifications
                    WHERE state = 'pending' AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                    ORDER BY next_attempt_at, id LIMIT \(limit) \(raw: dialect.forUpdateSkipLocked))
                RETURNING id, integration, content, attempts, next_attempt_at, attempt_started_at
                """
            ).map { row in
                (
                    try row.get("next_attempt_at", as: Double.self),
                    PendingNotification(
                        id: try row.get("id"), integration: try row.get("integration"),
                        content: try Self.decode(NotificationContent.self, try row.get("content")), attempts: try row.get("attempts", as: Int.self),
                        unrecordedAttemptAt: try row.optionalDate("attempt_started_at"))
                )
            }.sorted { ($0.0, $0.1.id) < ($1.0, $1.1.id) }.map(\.1)
        }
    }

    /// The next time a pending notification may be attempted; one claimed by a replica counts from
    /// the end of its lease (its replica records the outcome before then, or it is taken over).
    public func nextNotificationAttempt() async throws -> Date? {
        let dialect = self.dialect
        return try await database.read { db in
            try await db.scalar(
                """
                SELECT MIN(\(dialect.greatest("next_attempt_at", "COALESCE(lease_until, next_attempt_at)"))) AS next FROM notifications WHERE state = 'pending'
                """, as: Date.self)
        }
    }

    /// The fence before a send: only while this process still holds the claim, and the lease is
    /// renewed so the request's whole timeout fits inside it. Keeps the earliest unanswered attempt:
    /// the receiver may have had it since then.
    public func beginDeliveryAttempt(id: Int64, at now: Date) async throws -> Bool {
        let (replicaID, leaseUntil) = (self.replicaID, now.addingTimeInterval(leaseDuration))
        return try await database.write { db in
            try await db.count(
                """
                UPDATE notifications SET attempt_started_at = COALESCE(attempt_started_at, \(now)), lease_until = \(leaseUntil)
                WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                """) == 1
        }
    }

    public func renewDeliveryLeases(at now: Date) async throws {
        let (replicaID, leaseUntil) = (self.replicaID, now.addingTimeInterval(leaseDuration))
        try await database.write { db in
            try await db.execute(
                """
                UPDATE notifications SET lease_until = \(leaseUntil) WHERE claimed_by = \(replicaID) AND state = 'pending' AND lease_until > \(now)
                """)
        }
    }

    /// Records the outcome and releases the claim. A definite answer clears the unrecorded-attempt
    /// mark; `outcomeUnknown` and `deferred` keep it. Only the holder of the claim records: one whose
    /// lease was taken over meanwhile must not clear the mark under the new holder.
    public func recordDelivery(id: Int64, _ outcome: DeliveryOutcome, at now: Date) async throws {
        let changes: SQL =
            switch outcome {
            case .sent:
                "state = 'sent', attempts = attempts + 1, sent_at = \(now), next_attempt_at = NULL, last_error = NULL, attempt_started_at = NULL"
            case .retry(let at, let error):
                "attempts = attempts + 1, next_attempt_at = \(at), last_error = \(error), attempt_started_at = NULL"
            case .outcomeUnknown(let at, let error):
                "attempts = attempts + 1, next_attempt_at = \(at), last_error = \(error)"
            case .deferred(let until):
                "next_attempt_at = \(until)"
            case .failed(let error):
                "state = 'failed', attempts = attempts + 1, next_attempt_at = NULL, last_error = \(error), attempt_started_at = NULL"
            }
        let replicaID = self.replicaID
        let recorded = try await database.write { db in
            try await db.count(
                """
                UPDATE notifications SET \(changes), claimed_by = NULL, lease_until = NULL
                WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                """)
        }
        if recorded == 0 {
            logger.warning(
                "delivery outcome not recorded: the notification is no longer this replica's (sent, or taken over)",
                metadata: ["notification": "\(id)"])
        }
    }

    public func notifications(groupID: String?, limit: Int) async throws -> [NotificationRecord] {
        try await database.read { db in
            let rows =
                if let groupID {
                    try await db.rows("SELECT * FROM notifications WHERE group_id = \(groupID) ORDER BY id DESC LIMIT \(limit)")
                } else {
                    try await db.rows("SELECT * FROM notifications ORDER BY id DESC LIMIT \(limit)")
                }
            return try rows.map { row in
                let state = NotificationRecord.State(rawValue: try row.get("state")) ?? .failed
                return NotificationRecord(
                    id: try row.get("id"), groupID: try row.get("group_id"), receiver: try row.get("receiver"),
                    integration: try row.get("integration"), firing: try row.get("firing", as: Int.self),
                    resolved: try row.get("resolved", as: Int.self), alertsHash: try row.get("alerts_hash"), state: state,
                    attempts: try row.get("attempts", as: Int.self), createdAt: try row.date("created_at"),
                    nextAttemptAt: try row.optionalDate("next_attempt_at"), sentAt: try row.optionalDate("sent_at"),
                    lastError: try row.get("last_error", as: String?.self),
                    unansweredSince: state == .pending ? try row.optionalDate("attempt_started_at") : nil)
            }
        }
    }

    // MARK: Silences

    public func createSilence(_ silence: Silence) async throws {
        try await database.write { db in
            try await db.execute(
                """
                INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at)
                VALUES (\(silence.id), \(try Self.json(silence.matchers)), \(silence.startsAt), \(silence.endsAt), \(silence.createdBy), \(silence.comment),
                        \(silence.createdAt))
                """)
        }
    }

    public func silences(at now: Date) async throws -> [Silence] {
        try await database.read { db in
            try await db.rows("SELECT * FROM silences ORDER BY created_at DESC, id").map { try Self.silence($0, at: now) }
        }
    }

    public func expireSilence(id: String, at now: Date) async throws -> Silence {
        let dialect = self.dialect
        return try await database.write { db in
            guard let row = try await db.one("SELECT * FROM silences WHERE id = \(id) \(raw: dialect.forUpdate)") else {
                throw StoreError.notFound("silence \"\(id)\" not found")
            }
            let silence = try Self.silence(row, at: now)
            if silence.state == .expired { throw StoreError.conflict("silence \"\(id)\" has already expired") }
            try await db.execute("UPDATE silences SET starts_at = \(dialect.least("starts_at", "\(now)")), ends_at = \(now) WHERE id = \(id)")
            var expired = try Self.silence(try await db.one("SELECT * FROM silences WHERE id = \(id)")!, at: now)
            // Stored times are rounded to a double of Unix seconds; the silence ended at `now` by definition.
            expired.state = .expired
            return expired
        }
    }
}
