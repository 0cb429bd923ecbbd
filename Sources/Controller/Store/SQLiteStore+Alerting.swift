import ControllerModel
import Foundation
import GRDB
import SplitPlaneProtocol

extension SQLiteStore {
    // MARK: Groups

    /// Puts an alert into its groups. A firing alert creates a missing group, first flushed after
    /// `group_wait` — at once if the alert has been active longer than that and the group has never
    /// flushed (Alertmanager's rule). A resolved alert only updates groups it is already in.
    static func join(_ db: Database, _ alert: StoredAlert, _ assignments: [GroupAssignment], at now: Date) throws {
        for assignment in assignments {
            let waitedEnough = alert.startsAt.addingTimeInterval(assignment.groupWait.timeInterval) < now
            if alert.isFiring(at: now) {
                try db.cachedStatement(sql: """
                    INSERT INTO alert_groups (id, route, receiver, group_labels, created_at, next_flush_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET next_flush_at = MIN(next_flush_at, ?) WHERE has_flushed = 0 AND ?
                    """).execute(arguments: [assignment.groupID, assignment.route, assignment.receiver, try json(assignment.groupLabels),
                                             now.timeIntervalSince1970,
                                             waitedEnough ? now.timeIntervalSince1970 : now.addingTimeInterval(assignment.groupWait.timeInterval).timeIntervalSince1970,
                                             now.timeIntervalSince1970, waitedEnough])
            } else if try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM alert_groups WHERE id = ?"), arguments: [assignment.groupID]) == nil {
                continue
            }
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO alert_group_members (group_id, tenant, environment, fingerprint) VALUES (?, ?, ?, ?)")
                .execute(arguments: [assignment.groupID, alert.tenant, alert.environment, alert.fingerprint])
        }
    }

    public func rebuildAlertGroups(at now: Date, assign: AlertAssigner) async throws {
        try await database.write { db in
            let members = try Row.fetchAll(db, sql: """
                SELECT a.* FROM alerts a WHERE a.state = 'firing'
                   OR EXISTS (SELECT 1 FROM alert_group_members m WHERE m.tenant = a.tenant AND m.environment = a.environment AND m.fingerprint = a.fingerprint)
                """).map(Self.alert)
            var wanted: [String: Set<String>] = [:]
            for alert in members {
                for assignment in assign(alert) { wanted[assignment.groupID, default: []].insert(alert.key) }
            }
            // Memberships the current routes no longer give are dropped; groups left empty go with them.
            for row in try Row.fetchAll(db, sql: "SELECT group_id, tenant, environment, fingerprint FROM alert_group_members") {
                let key = "\(row["tenant"] as String)/\(row["environment"] as String)/\(row["fingerprint"] as String)"
                if wanted[row["group_id"], default: []].contains(key) == false {
                    try db.execute(sql: "DELETE FROM alert_group_members WHERE group_id = ? AND tenant = ? AND environment = ? AND fingerprint = ?",
                                   arguments: [row["group_id"], row["tenant"], row["environment"], row["fingerprint"]])
                }
            }
            try db.execute(sql: "DELETE FROM alert_groups WHERE id NOT IN (SELECT DISTINCT group_id FROM alert_group_members)")
            for alert in members { try Self.join(db, alert, assign(alert), at: now) }
        }
    }

    public func dueAlertGroups(at now: Date) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM alert_groups WHERE next_flush_at <= ? ORDER BY next_flush_at, id",
                                arguments: [now.timeIntervalSince1970])
        }
    }

    public func nextAlertGroupFlush() async throws -> Date? {
        try await database.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_flush_at) FROM alert_groups").map(Self.date)
        }
    }

    public func flushAlertGroup(id: String, at now: Date, plan: @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        try await database.write { db in try Self.flush(db, groupID: id, at: now, plan: plan) }
    }

    /// A round in transactions of `flushBatch` groups: a commit per group made a round of a hundred
    /// unchanged groups cost a hundred fsyncs (and an arriving alert waited behind them), one commit
    /// for the whole round held the write lock so long that intake slowed.
    public func flushAlertGroups(ids: [String], at now: Date, plan: @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        for start in stride(from: 0, to: ids.count, by: Self.flushBatch) {
            let batch = ids[start..<min(ids.count, start + Self.flushBatch)]
            try await database.write { db in
                for id in batch { try Self.flush(db, groupID: id, at: now, plan: plan) }
            }
        }
    }

    static let flushBatch = 16

    private static func flush(_ db: Database, groupID id: String, at now: Date, plan: (AlertGroupSnapshot) -> AlertGroupFlush) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alert_groups WHERE id = ?", arguments: [id]) else { return }
        let flush = plan(try Self.snapshot(db, row))
        for notification in flush.notifications {
            // An older message for the same group and integration that has not gone out yet is
            // stale now: the new one says everything it would have said.
            try db.execute(sql: "UPDATE notifications SET state = 'superseded', next_attempt_at = NULL WHERE group_id = ? AND integration = ? AND state = 'pending'",
                           arguments: [id, notification.integration])
            let content = notification.content
            try db.execute(sql: """
                INSERT INTO notifications (group_id, receiver, integration, firing, resolved, alerts_hash, content, state, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                """, arguments: [id, content.receiver, notification.integration, content.firing.count, content.resolved.count,
                                 content.alertsHash, try Self.json(content), now.timeIntervalSince1970, now.timeIntervalSince1970])
        }
        if let notified = flush.notified {
            try db.execute(sql: "UPDATE alert_groups SET last_notified_at = ?, notified_firing = ?, notified_resolved = ? WHERE id = ?",
                           arguments: [notified.at.timeIntervalSince1970, try Self.json(notified.firing.sorted()),
                                       try Self.json(notified.resolved.sorted()), id])
        }
        let ack = flush.acknowledgement
        try db.execute(sql: """
            UPDATE alert_groups SET next_flush_at = ?, has_flushed = 1, ack_by = ?, ack_at = ?, ack_via = ?, ack_comment = ? WHERE id = ?
            """, arguments: [flush.nextFlushAt.timeIntervalSince1970, ack?.by, ack?.at.timeIntervalSince1970, ack?.via, ack?.comment, id])
        for alert in flush.removeAlerts {
            try db.execute(sql: "DELETE FROM alert_group_members WHERE group_id = ? AND tenant = ? AND environment = ? AND fingerprint = ?",
                           arguments: [id, alert.tenant, alert.environment, alert.fingerprint])
        }
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert_group_members WHERE group_id = ?", arguments: [id]) == 0 {
            try db.execute(sql: "DELETE FROM alert_groups WHERE id = ?", arguments: [id])
        }
    }

    public func alertGroups(tenant: String?, at now: Date) async throws -> [AlertGroup] {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: tenant == nil
                ? "SELECT * FROM alert_groups ORDER BY created_at, id"
                : "SELECT * FROM alert_groups g WHERE EXISTS (SELECT 1 FROM alert_group_members m WHERE m.group_id = g.id AND m.tenant = ?) ORDER BY created_at, id",
                arguments: tenant.map { [$0] } ?? [])
            return try rows.map { try Self.group(try Self.snapshot(db, $0), withAlerts: false, at: now) }
        }
    }

    public func alertGroup(id: String, at now: Date) async throws -> AlertGroup? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM alert_groups WHERE id = ?", arguments: [id])
                .map { try Self.group(try Self.snapshot(db, $0), withAlerts: true, at: now) }
        }
    }

    public func setAcknowledgement(groupID: String, _ ack: Acknowledgement?, at now: Date) async throws -> AlertGroup {
        try await database.write { db in
            try db.execute(sql: "UPDATE alert_groups SET ack_by = ?, ack_at = ?, ack_via = ?, ack_comment = ? WHERE id = ?",
                           arguments: [ack?.by, ack?.at.timeIntervalSince1970, ack?.via, ack?.comment, groupID])
            guard db.changesCount > 0, let row = try Row.fetchOne(db, sql: "SELECT * FROM alert_groups WHERE id = ?", arguments: [groupID]) else {
                throw StoreError.notFound("alert group \"\(groupID)\" not found (it may have resolved and been removed)")
            }
            return try Self.group(try Self.snapshot(db, row), withAlerts: false, at: now)
        }
    }

    // MARK: Notifications

    public func dueNotifications(at now: Date, limit: Int) async throws -> [PendingNotification] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, integration, content, attempts, attempt_started_at FROM notifications
                WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]).map { row in
                let started: Double? = row["attempt_started_at"]
                return PendingNotification(id: row["id"], integration: row["integration"],
                                           content: try Self.decode(NotificationContent.self, row["content"]), attempts: row["attempts"],
                                           unrecordedAttemptAt: started.map(Self.date))
            }
        }
    }

    public func nextNotificationAttempt() async throws -> Date? {
        try await database.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM notifications WHERE state = 'pending'").map(Self.date)
        }
    }

    /// Keeps the earliest unanswered attempt: the receiver may have had it since then.
    public func beginDeliveryAttempt(id: Int64, at now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE notifications SET attempt_started_at = COALESCE(attempt_started_at, ?) WHERE id = ? AND state = 'pending'",
                           arguments: [now.timeIntervalSince1970, id])
            return db.changesCount > 0
        }
    }

    /// One process delivers from an SQLite store: nobody else can take a notification over.
    public func renewDeliveryLeases(at now: Date) async throws {}

    /// A definite answer clears the unrecorded-attempt mark; `outcomeUnknown` and `deferred` keep it.
    public func recordDelivery(id: Int64, _ outcome: DeliveryOutcome, at now: Date) async throws {
        try await database.write { db in
            switch outcome {
            case .sent:
                try db.execute(sql: """
                    UPDATE notifications SET state = 'sent', attempts = attempts + 1, sent_at = ?, next_attempt_at = NULL, last_error = NULL,
                    attempt_started_at = NULL WHERE id = ? AND state = 'pending'
                    """, arguments: [now.timeIntervalSince1970, id])
            case .retry(let at, let error):
                try db.execute(sql: """
                    UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, attempt_started_at = NULL
                    WHERE id = ? AND state = 'pending'
                    """, arguments: [at.timeIntervalSince1970, error, id])
            case .outcomeUnknown(let at, let error):
                try db.execute(sql: "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
                               arguments: [at.timeIntervalSince1970, error, id])
            case .deferred(let until):
                try db.execute(sql: "UPDATE notifications SET next_attempt_at = ? WHERE id = ? AND state = 'pending'",
                               arguments: [until.timeIntervalSince1970, id])
            case .failed(let error):
                try db.execute(sql: """
                    UPDATE notifications SET state = 'failed', attempts = attempts + 1, next_attempt_at = NULL, last_error = ?,
                    attempt_started_at = NULL WHERE id = ? AND state = 'pending'
                    """, arguments: [error, id])
            }
        }
    }

    public func notifications(groupID: String?, limit: Int) async throws -> [NotificationRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: groupID == nil
                ? "SELECT * FROM notifications ORDER BY id DESC LIMIT ?"
                : "SELECT * FROM notifications WHERE group_id = ? ORDER BY id DESC LIMIT ?",
                arguments: groupID.map { [$0, limit] as StatementArguments } ?? [limit]).map { row in
                let nextAttempt: Double? = row["next_attempt_at"]
                let sentAt: Double? = row["sent_at"]
                let started: Double? = row["attempt_started_at"]
                let state = NotificationRecord.State(rawValue: row["state"]) ?? .failed
                return NotificationRecord(id: row["id"], groupID: row["group_id"], receiver: row["receiver"], integration: row["integration"],
                                          firing: row["firing"], resolved: row["resolved"], alertsHash: row["alerts_hash"],
                                          state: state, attempts: row["attempts"],
                                          createdAt: Self.date(row["created_at"]), nextAttemptAt: nextAttempt.map(Self.date),
                                          sentAt: sentAt.map(Self.date), lastError: row["last_error"],
                                          unansweredSince: state == .pending ? started.map(Self.date) : nil)
            }
        }
    }

    // MARK: Silences

    public func createSilence(_ silence: Silence) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [silence.id, try Self.json(silence.matchers), silence.startsAt.timeIntervalSince1970,
                                 silence.endsAt.timeIntervalSince1970, silence.createdBy, silence.comment, silence.createdAt.timeIntervalSince1970])
        }
    }

    public func silences(at now: Date) async throws -> [Silence] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM silences ORDER BY created_at DESC, id").map { try Self.silence($0, at: now) }
        }
    }

    public func expireSilence(id: String, at now: Date) async throws -> Silence {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM silences WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("silence \"\(id)\" not found")
            }
            let silence = try Self.silence(row, at: now)
            if silence.state == .expired { throw StoreError.conflict("silence \"\(id)\" has already expired") }
            try db.execute(sql: "UPDATE silences SET starts_at = MIN(starts_at, ?), ends_at = ? WHERE id = ?",
                           arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, id])
            var expired = try Self.silence(try Row.fetchOne(db, sql: "SELECT * FROM silences WHERE id = ?", arguments: [id])!, at: now)
            // Stored times are rounded to a double of Unix seconds; the silence ended at `now` by definition.
            expired.state = .expired
            return expired
        }
    }

    // MARK: Rows

    private static func snapshot(_ db: Database, _ row: Row) throws -> AlertGroupSnapshot {
        let id: String = row["id"]
        let alerts = try Row.fetchAll(db, sql: """
            SELECT a.* FROM alert_group_members m
            JOIN alerts a ON a.tenant = m.tenant AND a.environment = m.environment AND a.fingerprint = m.fingerprint
            WHERE m.group_id = ? ORDER BY a.starts_at, a.tenant, a.environment, a.fingerprint
            """, arguments: [id]).map(alert)
        let lastNotified: Double? = row["last_notified_at"]
        let ackAt: Double? = row["ack_at"]
        let acknowledgement = ackAt.map { Acknowledgement(by: row["ack_by"], at: date($0), via: row["ack_via"], comment: row["ack_comment"]) }
        return AlertGroupSnapshot(id: id, route: row["route"], receiver: row["receiver"], groupLabels: try decode([String: String].self, row["group_labels"]),
                                  createdAt: date(row["created_at"]), nextFlushAt: date(row["next_flush_at"]),
                                  lastNotifiedAt: lastNotified.map(date), notifiedFiring: Set(try decode([String].self, row["notified_firing"])),
                                  notifiedResolved: Set(try decode([String].self, row["notified_resolved"])), acknowledgement: acknowledgement,
                                  alerts: alerts)
    }

    private static func group(_ snapshot: AlertGroupSnapshot, withAlerts: Bool, at now: Date) throws -> AlertGroup {
        let firing = snapshot.alerts.filter { $0.isFiring(at: now) }.count
        return AlertGroup(id: snapshot.id, route: snapshot.route, receiver: snapshot.receiver, groupLabels: snapshot.groupLabels,
                          firing: firing, resolved: snapshot.alerts.count - firing, createdAt: snapshot.createdAt, nextFlushAt: snapshot.nextFlushAt,
                          lastNotifiedAt: snapshot.lastNotifiedAt, acknowledgement: snapshot.acknowledgement,
                          alerts: withAlerts ? snapshot.alerts : nil)
    }

    private static func silence(_ row: Row, at now: Date) throws -> Silence {
        let startsAt = date(row["starts_at"])
        let endsAt = date(row["ends_at"])
        return Silence(id: row["id"], matchers: try decode([String].self, row["matchers"]), startsAt: startsAt, endsAt: endsAt,
                       createdBy: row["created_by"], comment: row["comment"], createdAt: date(row["created_at"]),
                       state: Silence.state(startsAt: startsAt, endsAt: endsAt, at: now))
    }
}
