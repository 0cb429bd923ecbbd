import ControllerModel
import Foundation
import Logging
import PostgresNIO
import SplitPlaneProtocol

extension PostgresStore {
    /// Key of the advisory lock `rebuildAlertGroups` takes: two replicas starting at once re-file in turn.
    static let rebuildLockKey: Int64 = 0x7162_6561_7374_2D72

    // MARK: Groups

    /// As `SQLiteStore.join`: a firing alert creates a missing group, first flushed after `group_wait`
    /// (at once if it has been active longer and the group never flushed); a resolved alert only
    /// updates groups it is already in.
    ///
    /// Groups are visited in the order of their ids (alerts of one group in the order given), each
    /// group's row locked first, so two replicas filing alerts into the same groups take the locks in
    /// one order and cannot deadlock each other. Groups do not depend on one another, so the order
    /// across groups changes nothing.
    static func join(_ db: PostgresConnection, _ filings: [(StoredAlert, [GroupAssignment])], at now: Date, _ logger: Logger) async throws {
        let pairs = filings.flatMap { alert, assignments in assignments.map { (alert, $0) } }
            .enumerated().sorted { ($0.element.1.groupID, $0.offset) < ($1.element.1.groupID, $1.offset) }.map(\.element)
        for (alert, assignment) in pairs {
            let waitedEnough = alert.startsAt.addingTimeInterval(assignment.groupWait.timeInterval) < now
            if alert.isFiring(at: now) {
                let firstFlush = waitedEnough ? now.timeIntervalSince1970 : now.addingTimeInterval(assignment.groupWait.timeInterval).timeIntervalSince1970
                // Locks the group's row whether it inserts or not (ON CONFLICT DO UPDATE locks even when its WHERE is false).
                try await db.run("""
                    INSERT INTO alert_groups (id, route, receiver, group_labels, created_at, next_flush_at)
                    VALUES (\(assignment.groupID), \(assignment.route), \(assignment.receiver), \(try json(assignment.groupLabels)),
                            \(now.timeIntervalSince1970), \(firstFlush))
                    ON CONFLICT (id) DO UPDATE SET next_flush_at = LEAST(alert_groups.next_flush_at, \(now.timeIntervalSince1970))
                    WHERE alert_groups.has_flushed = false AND \(waitedEnough)
                    """, logger)
            } else if try await !db.exists("SELECT 1 FROM alert_groups WHERE id = \(assignment.groupID) FOR UPDATE", logger) {
                continue
            }
            try await db.run("""
                INSERT INTO alert_group_members (group_id, tenant, environment, fingerprint)
                VALUES (\(assignment.groupID), \(alert.tenant), \(alert.environment), \(alert.fingerprint)) ON CONFLICT DO NOTHING
                """, logger)
        }
    }

    public func rebuildAlertGroups(at now: Date, assign: AlertAssigner) async throws {
        try await client.transaction(logger) { db in
            try await db.run("SELECT pg_advisory_xact_lock(\(Self.rebuildLockKey))", logger)
            let members = try await db.rows("""
                SELECT a.* FROM alerts a WHERE a.state = 'firing'
                   OR EXISTS (SELECT 1 FROM alert_group_members m WHERE m.tenant = a.tenant AND m.environment = a.environment AND m.fingerprint = a.fingerprint)
                """, logger).map(Self.alert)
            var wanted: [String: Set<String>] = [:]
            for alert in members {
                for assignment in assign(alert) { wanted[assignment.groupID, default: []].insert(alert.key) }
            }
            for row in try await db.rows("SELECT group_id, tenant, environment, fingerprint FROM alert_group_members", logger) {
                let group = try row.get("group_id", String.self)
                let (tenant, environment, fingerprint) = (try row.get("tenant", String.self), try row.get("environment", String.self),
                                                          try row.get("fingerprint", String.self))
                if wanted[group, default: []].contains("\(tenant)/\(environment)/\(fingerprint)") == false {
                    try await db.run("""
                        DELETE FROM alert_group_members WHERE group_id = \(group) AND tenant = \(tenant) AND environment = \(environment)
                        AND fingerprint = \(fingerprint)
                        """, logger)
                }
            }
            try await db.run("DELETE FROM alert_groups WHERE id NOT IN (SELECT DISTINCT group_id FROM alert_group_members)", logger)
            try await Self.join(db, members.map { ($0, assign($0)) }, at: now, logger)
        }
    }

    public func dueAlertGroups(at now: Date) async throws -> [String] {
        try await client.withConnection { db in
            try await db.rows("SELECT id FROM alert_groups WHERE next_flush_at <= \(now.timeIntervalSince1970) ORDER BY next_flush_at, id", logger)
                .map { try $0.get("id", String.self) }
        }
    }

    public func nextAlertGroupFlush() async throws -> Date? {
        try await client.withConnection { db in
            try await db.one("SELECT MIN(next_flush_at) AS next FROM alert_groups", logger)?.optionalDate("next")
        }
    }

    /// Locks the group's row for the transaction and does nothing when its timer is no longer due:
    /// another replica flushed it between `dueAlertGroups` and now, so each flush happens once.
    public func flushAlertGroup(id: String, at now: Date, plan: @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        try await client.transaction(logger) { db in
            guard let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(id) FOR UPDATE", logger),
                  try row.get("next_flush_at", Double.self) <= now.timeIntervalSince1970 else { return }
            let snapshot = try await Self.snapshot(db, row, logger)
            let flush = plan(snapshot)
            for notification in flush.notifications {
                try await db.run("""
                    UPDATE notifications SET state = 'superseded', next_attempt_at = NULL
                    WHERE group_id = \(id) AND integration = \(notification.integration) AND state = 'pending'
                    """, logger)
                let content = notification.content
                try await db.run("""
                    INSERT INTO notifications (group_id, receiver, integration, firing, resolved, alerts_hash, content, state, created_at, next_attempt_at)
                    VALUES (\(id), \(content.receiver), \(notification.integration), \(content.firing.count), \(content.resolved.count),
                            \(content.alertsHash), \(try Self.json(content)), 'pending', \(now.timeIntervalSince1970), \(now.timeIntervalSince1970))
                    """, logger)
            }
            if let notified = flush.notified {
                try await db.run("""
                    UPDATE alert_groups SET last_notified_at = \(notified.at.timeIntervalSince1970), notified_firing = \(try Self.json(notified.firing.sorted())),
                    notified_resolved = \(try Self.json(notified.resolved.sorted())) WHERE id = \(id)
                    """, logger)
            }
            let ack = flush.acknowledgement
            try await db.run("""
                UPDATE alert_groups SET next_flush_at = \(flush.nextFlushAt.timeIntervalSince1970), has_flushed = true, ack_by = \(ack?.by),
                ack_at = \(ack?.at.timeIntervalSince1970), ack_via = \(ack?.via), ack_comment = \(ack?.comment) WHERE id = \(id)
                """, logger)
            for alert in flush.removeAlerts {
                try await db.run("""
                    DELETE FROM alert_group_members WHERE group_id = \(id) AND tenant = \(alert.tenant) AND environment = \(alert.environment)
                    AND fingerprint = \(alert.fingerprint)
                    """, logger)
            }
            if try await !db.exists("SELECT 1 FROM alert_group_members WHERE group_id = \(id) LIMIT 1", logger) {
                try await db.run("DELETE FROM alert_groups WHERE id = \(id)", logger)
            }
        }
    }

    public func alertGroups(tenant: String?, at now: Date) async throws -> [AlertGroup] {
        try await client.transaction(logger) { db in
            try await db.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger)
            let rows = if let tenant {
                try await db.rows("""
                    SELECT * FROM alert_groups g WHERE EXISTS (SELECT 1 FROM alert_group_members m WHERE m.group_id = g.id AND m.tenant = \(tenant))
                    ORDER BY created_at, id
                    """, logger)
            } else {
                try await db.rows("SELECT * FROM alert_groups ORDER BY created_at, id", logger)
            }
            var groups: [AlertGroup] = []
            for row in rows { groups.append(try Self.group(try await Self.snapshot(db, row, logger), withAlerts: false, at: now)) }
            return groups
        }
    }

    public func alertGroup(id: String, at now: Date) async throws -> AlertGroup? {
        try await client.transaction(logger) { db in
            try await db.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger)
            guard let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(id)", logger) else { return nil }
            return try Self.group(try await Self.snapshot(db, row, logger), withAlerts: true, at: now)
        }
    }

    public func setAcknowledgement(groupID: String, _ ack: Acknowledgement?, at now: Date) async throws -> AlertGroup {
        try await client.transaction(logger) { db in
            let updated = try await db.run("""
                UPDATE alert_groups SET ack_by = \(ack?.by), ack_at = \(ack?.at.timeIntervalSince1970), ack_via = \(ack?.via), ack_comment = \(ack?.comment)
                WHERE id = \(groupID) RETURNING 1
                """, logger)
            guard updated > 0, let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(groupID)", logger) else {
                throw StoreError.notFound("alert group \"\(groupID)\" not found (it may have resolved and been removed)")
            }
            return try Self.group(try await Self.snapshot(db, row, logger), withAlerts: false, at: now)
        }
    }

    // MARK: Notifications

    /// Claims the due notifications no other replica holds a live lease on (`FOR UPDATE SKIP LOCKED`
    /// so concurrent claims never block on or take each other's rows) for `leaseDuration`. A
    /// notification is sent by the replica that claimed it; one whose replica died is claimed again
    /// once its lease has run out, with the mark of the attempt that replica may have made.
    public func dueNotifications(at now: Date, limit: Int) async throws -> [PendingNotification] {
        let at = now.timeIntervalSince1970
        return try await client.transaction(logger) { db in
            try await db.rows("""
                UPDATE notifications SET claimed_by = \(replicaID), lease_until = \(at + leaseDuration)
                WHERE id IN (
                    SELECT id FROM notifications
                    WHERE state = 'pending' AND next_attempt_at <= \(at) AND (lease_until IS NULL OR lease_until <= \(at))
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id, integration, content, attempts, next_attempt_at, attempt_started_at
                """, logger).map { row in
                (try row.get("next_attempt_at", Double.self),
                 PendingNotification(id: try row.get("id"), integration: try row.get("integration"),
                                     content: try Self.decode(NotificationContent.self, try row.get("content")), attempts: try row.get("attempts", Int.self),
                                     unrecordedAttemptAt: try row.optionalDate("attempt_started_at")))
            }.sorted { ($0.0, $0.1.id) < ($1.0, $1.1.id) }.map(\.1)
        }
    }

    /// The next time a pending notification may be attempted; one claimed by a replica counts from
    /// the end of its lease (its replica records the outcome before then, or it is taken over).
    public func nextNotificationAttempt() async throws -> Date? {
        try await client.withConnection { db in
            try await db.one("""
                SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at))) AS next FROM notifications WHERE state = 'pending'
                """, logger)?.optionalDate("next")
        }
    }

    /// The fence before a send: only while this replica still holds the claim, and the lease is
    /// renewed so the request's whole timeout fits inside it.
    public func beginDeliveryAttempt(id: Int64, at now: Date) async throws -> Bool {
        let at = now.timeIntervalSince1970
        return try await client.withConnection { db in
            try await db.run("""
                UPDATE notifications SET attempt_started_at = COALESCE(attempt_started_at, \(at)), lease_until = \(at + leaseDuration)
                WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                """, logger) == 1
        }
    }

    public func renewDeliveryLeases(at now: Date) async throws {
        _ = try await client.withConnection { db in
            try await db.run("""
                UPDATE notifications SET lease_until = \(now.timeIntervalSince1970 + leaseDuration)
                WHERE claimed_by = \(replicaID) AND state = 'pending' AND lease_until > \(now.timeIntervalSince1970)
                """, logger)
        }
    }

    /// Records the outcome and releases the claim. A definite answer clears the unrecorded-attempt
    /// mark; `outcomeUnknown` and `deferred` keep it. Only the replica holding the claim records: one
    /// whose lease was taken over meanwhile must not clear the mark under the new holder.
    public func recordDelivery(id: Int64, _ outcome: DeliveryOutcome, at now: Date) async throws {
        let recorded = try await client.transaction(logger) { db in
            switch outcome {
            case .sent:
                try await db.run("""
                    UPDATE notifications SET state = 'sent', attempts = attempts + 1, sent_at = \(now.timeIntervalSince1970), next_attempt_at = NULL,
                    last_error = NULL, attempt_started_at = NULL, claimed_by = NULL, lease_until = NULL
                    WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                    """, logger)
            case .retry(let at, let error):
                try await db.run("""
                    UPDATE notifications SET attempts = attempts + 1, next_attempt_at = \(at.timeIntervalSince1970), last_error = \(error),
                    attempt_started_at = NULL, claimed_by = NULL, lease_until = NULL
                    WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                    """, logger)
            case .outcomeUnknown(let at, let error):
                try await db.run("""
                    UPDATE notifications SET attempts = attempts + 1, next_attempt_at = \(at.timeIntervalSince1970), last_error = \(error),
                    claimed_by = NULL, lease_until = NULL
                    WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                    """, logger)
            case .deferred(let until):
                try await db.run("""
                    UPDATE notifications SET next_attempt_at = \(until.timeIntervalSince1970), claimed_by = NULL, lease_until = NULL
                    WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                    """, logger)
            case .failed(let error):
                try await db.run("""
                    UPDATE notifications SET state = 'failed', attempts = attempts + 1, next_attempt_at = NULL, last_error = \(error),
                    attempt_started_at = NULL, claimed_by = NULL, lease_until = NULL
                    WHERE id = \(id) AND state = 'pending' AND claimed_by = \(replicaID) RETURNING 1
                    """, logger)
            }
        }
        if recorded == 0 {
            logger.warning("delivery outcome not recorded: the notification is no longer this replica's (sent, or taken over)",
                           metadata: ["notification": "\(id)"])
        }
    }

    public func notifications(groupID: String?, limit: Int) async throws -> [NotificationRecord] {
        try await client.withConnection { db in
            let rows = if let groupID {
                try await db.rows("SELECT * FROM notifications WHERE group_id = \(groupID) ORDER BY id DESC LIMIT \(limit)", logger)
            } else {
                try await db.rows("SELECT * FROM notifications ORDER BY id DESC LIMIT \(limit)", logger)
            }
            return try rows.map { row in
                let state = NotificationRecord.State(rawValue: try row.get("state")) ?? .failed
                return NotificationRecord(id: try row.get("id"), groupID: try row.get("group_id"), receiver: try row.get("receiver"),
                                          integration: try row.get("integration"), firing: try row.get("firing", Int.self),
                                          resolved: try row.get("resolved", Int.self), alertsHash: try row.get("alerts_hash"), state: state,
                                          attempts: try row.get("attempts", Int.self), createdAt: try row.date("created_at"),
                                          nextAttemptAt: try row.optionalDate("next_attempt_at"), sentAt: try row.optionalDate("sent_at"),
                                          lastError: try row.get("last_error", String?.self),
                                          unansweredSince: state == .pending ? try row.optionalDate("attempt_started_at") : nil)
            }
        }
    }

    // MARK: Silences

    public func createSilence(_ silence: Silence) async throws {
        _ = try await client.transaction(logger) { db in
            try await db.run("""
                INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at)
                VALUES (\(silence.id), \(try Self.json(silence.matchers)), \(silence.startsAt.timeIntervalSince1970), \(silence.endsAt.timeIntervalSince1970),
                        \(silence.createdBy), \(silence.comment), \(silence.createdAt.timeIntervalSince1970))
                """, logger)
        }
    }

    public func silences(at now: Date) async throws -> [Silence] {
        try await client.withConnection { db in
            try await db.rows("SELECT * FROM silences ORDER BY created_at DESC, id", logger).map { try Self.silence($0, at: now) }
        }
    }

    public func expireSilence(id: String, at now: Date) async throws -> Silence {
        try await client.transaction(logger) { db in
            guard let row = try await db.one("SELECT * FROM silences WHERE id = \(id) FOR UPDATE", logger) else {
                throw StoreError.notFound("silence \"\(id)\" not found")
            }
            let silence = try Self.silence(row, at: now)
            if silence.state == .expired { throw StoreError.conflict("silence \"\(id)\" has already expired") }
            try await db.run("""
                UPDATE silences SET starts_at = LEAST(starts_at, \(now.timeIntervalSince1970)), ends_at = \(now.timeIntervalSince1970) WHERE id = \(id)
                """, logger)
            var expired = try Self.silence(try await db.one("SELECT * FROM silences WHERE id = \(id)", logger)!, at: now)
            // Stored times are rounded to a double of Unix seconds; the silence ended at `now` by definition.
            expired.state = .expired
            return expired
        }
    }

    // MARK: Rows

    private static func snapshot(_ db: PostgresConnection, _ row: PGRow, _ logger: Logger) async throws -> AlertGroupSnapshot {
        let id = try row.get("id", String.self)
        let alerts = try await db.rows("""
            SELECT a.* FROM alert_group_members m
            JOIN alerts a ON a.tenant = m.tenant AND a.environment = m.environment AND a.fingerprint = m.fingerprint
            WHERE m.group_id = \(id) ORDER BY a.starts_at, a.tenant, a.environment, a.fingerprint
            """, logger).map(alert)
        let acknowledgement = try row.optionalDate("ack_at").map {
            Acknowledgement(by: try row.get("ack_by", String?.self) ?? "", at: $0, via: try row.get("ack_via", String?.self) ?? "",
                            comment: try row.get("ack_comment", String?.self))
        }
        return AlertGroupSnapshot(id: id, route: try row.get("route"), receiver: try row.get("receiver"),
                                  groupLabels: try decode([String: String].self, try row.get("group_labels")),
                                  createdAt: try row.date("created_at"), nextFlushAt: try row.date("next_flush_at"),
                                  lastNotifiedAt: try row.optionalDate("last_notified_at"),
                                  notifiedFiring: Set(try decode([String].self, try row.get("notified_firing"))),
                                  notifiedResolved: Set(try decode([String].self, try row.get("notified_resolved"))), acknowledgement: acknowledgement,
                                  alerts: alerts)
    }

    private static func group(_ snapshot: AlertGroupSnapshot, withAlerts: Bool, at now: Date) throws -> AlertGroup {
        let firing = snapshot.alerts.filter { $0.isFiring(at: now) }.count
        return AlertGroup(id: snapshot.id, route: snapshot.route, receiver: snapshot.receiver, groupLabels: snapshot.groupLabels,
                          firing: firing, resolved: snapshot.alerts.count - firing, createdAt: snapshot.createdAt, nextFlushAt: snapshot.nextFlushAt,
                          lastNotifiedAt: snapshot.lastNotifiedAt, acknowledgement: snapshot.acknowledgement,
                          alerts: withAlerts ? snapshot.alerts : nil)
    }

    private static func silence(_ row: PGRow, at now: Date) throws -> Silence {
        let startsAt = try row.date("starts_at")
        let endsAt = try row.date("ends_at")
        return Silence(id: try row.get("id"), matchers: try decode([String].self, try row.get("matchers")), startsAt: startsAt, endsAt: endsAt,
                       createdBy: try row.get("created_by"), comment: try row.get("comment"), createdAt: try row.date("created_at"),
                       state: Silence.state(startsAt: startsAt, endsAt: endsAt, at: now))
    }
}
