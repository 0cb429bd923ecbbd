import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Aggregation groups: membership, flushes with their notification log and acknowledgement.
extension SQLStore {
    /// Key of the transaction lock `rebuildAlertGroups` takes: two replicas starting at once re-file in turn.
    static let rebuildLockKey: Int64 = 0x7162_6561_7374_2D72

    /// Puts alerts into their groups, as statements that need no answer (so a batch goes in one trip).
    /// A firing alert creates a missing group, first flushed after `group_wait` — at once if the alert
    /// has been active longer than that and the group has never flushed (Alertmanager's rule). A
    /// resolved alert only joins groups that exist.
    ///
    /// Groups are visited in the order of their ids (alerts of one group in the order given), so two
    /// PostgreSQL replicas filing alerts into the same groups take the row locks in one order and
    /// cannot deadlock each other.
    static func joinStatements(_ filings: [(StoredAlert, [GroupAssignment])], at now: Date, dialect: SQLDialect) throws -> [SQL] {
        let pairs = filings.flatMap { alert, assignments in assignments.map { (alert, $0) } }
            .enumerated().sorted { ($0.element.1.groupID, $0.offset) < ($1.element.1.groupID, $1.offset) }.map(\.element)
        var statements: [SQL] = []
        for (alert, assignment) in pairs {
            let member: SQL = "\(assignment.groupID), \(alert.tenant), \(alert.environment), \(alert.fingerprint)"
            if alert.isFiring(at: now) {
                let waitedEnough = alert.startsAt.addingTimeInterval(assignment.groupWait.timeInterval) < now
                let firstFlush = waitedEnough ? now : now.addingTimeInterval(assignment.groupWait.timeInterval)
                // On PostgreSQL this locks the group's row whether it inserts or not (ON CONFLICT DO UPDATE
                // locks even when its WHERE is false).
                statements.append(
                    """
                    INSERT INTO alert_groups (id, route, receiver, group_labels, created_at, next_flush_at)
                    VALUES (\(assignment.groupID), \(assignment.route), \(assignment.receiver), \(try json(assignment.groupLabels)), \(now), \(firstFlush))
                    ON CONFLICT (id) DO UPDATE SET next_flush_at = \(dialect.least("alert_groups.next_flush_at", "\(now)"))
                    WHERE alert_groups.has_flushed = \(false) AND \(waitedEnough)
                    """)
                statements.append("INSERT INTO alert_group_members (group_id, tenant, environment, fingerprint) VALUES (\(member)) ON CONFLICT DO NOTHING")
            } else {
                statements.append(
                    """
                    INSERT INTO alert_group_members (group_id, tenant, environment, fingerprint)
                    SELECT \(member) WHERE EXISTS (SELECT 1 FROM alert_groups WHERE id = \(assignment.groupID) \(raw: dialect.forUpdate))
                    ON CONFLICT DO NOTHING
                    """)
            }
        }
        return statements
    }

    public func rebuildAlertGroups(at now: Date, assign: @escaping AlertAssigner) async throws {
        let dialect = self.dialect
        try await database.write { db in
            if let lock = dialect.transactionLock(Self.rebuildLockKey) { try await db.execute(lock) }
            let members = try await db.rows(
                """
                SELECT a.* FROM alerts a WHERE a.state = 'firing'
                   OR EXISTS (SELECT 1 FROM alert_group_members m WHERE m.tenant = a.tenant AND m.environment = a.environment AND m.fingerprint = a.fingerprint)
                """
            ).map(Self.alert)
            var wanted: [String: Set<String>] = [:]
            for alert in members {
                for assignment in assign(alert) { wanted[assignment.groupID, default: []].insert(alert.key) }
            }
            // Memberships the current routes no longer give are dropped; groups left empty go with them.
            var statements: [SQL] = []
            for row in try await db.rows("SELECT group_id, tenant, environment, fingerprint FROM alert_group_members") {
                let group = try row.get("group_id", as: String.self)
                let (tenant, environment, fingerprint) = (
                    try row.get("tenant", as: String.self), try row.get("environment", as: String.self),
                    try row.get("fingerprint", as: String.self)
                )
                if wanted[group, default: []].contains("\(tenant)/\(environment)/\(fingerprint)") == false {
                    statements.append(
                        """
                        DELETE FROM alert_group_members WHERE group_id = \(group) AND tenant = \(tenant) AND environment = \(environment)
                        AND fingerprint = \(fingerprint)
                        """)
                }
            }
            statements.append("DELETE FROM alert_groups WHERE id NOT IN (SELECT DISTINCT group_id FROM alert_group_members)")
            try await db.executeAll(statements + Self.joinStatements(members.map { ($0, assign($0)) }, at: now, dialect: dialect))
        }
    }

    public func dueAlertGroups(at now: Date) async throws -> [String] {
        try await database.read { db in
            try await db.rows("SELECT id FROM alert_groups WHERE next_flush_at <= \(now) ORDER BY next_flush_at, id").map { try $0.get("id", as: String.self) }
        }
    }

    public func nextAlertGroupFlush() async throws -> Date? {
        try await database.read { db in try await db.scalar("SELECT MIN(next_flush_at) AS next FROM alert_groups", as: Date.self) }
    }

    public func flushAlertGroup(id: String, at now: Date, plan: @escaping @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        try await flushAlertGroups(ids: [id], at: now, plan: plan)
    }

    /// A round in transactions of `flushBatch` groups: a commit per group made a round of a hundred
    /// unchanged groups cost a hundred fsyncs on SQLite (and an arriving alert waited behind them); one
    /// commit for the whole round held the write lock so long that intake slowed. Each group's row is
    /// locked (PostgreSQL) and a group whose timer is no longer due is left alone: another replica
    /// flushed it between `dueAlertGroups` and now, so each flush happens once.
    public func flushAlertGroups(ids: [String], at now: Date, plan: @escaping @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        let dialect = self.dialect
        for start in stride(from: 0, to: ids.count, by: Self.flushBatch) {
            let batch = Array(ids[start..<min(ids.count, start + Self.flushBatch)])
            try await database.write { db in
                for id in batch {
                    guard let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(id) \(raw: dialect.forUpdate)"),
                        try row.get("next_flush_at", as: Double.self) <= now.timeIntervalSince1970
                    else { continue }
                    let flush = plan(try await Self.snapshot(db, row))
                    try await db.executeAll(try Self.flushStatements(id, flush, at: now))
                }
            }
        }
    }

    static let flushBatch = 16

    /// What a flush writes: its notifications (an older one for the same group and integration that
    /// has not gone out yet is stale now: the new one says everything it would have said), the
    /// notification log, the timer and acknowledgement, resolved alerts leaving, an empty group going.
    static func flushStatements(_ id: String, _ flush: AlertGroupFlush, at now: Date) throws -> [SQL] {
        var statements: [SQL] = []
        for notification in flush.notifications {
            let content = notification.content
            statements.append(
                """
                UPDATE notifications SET state = 'superseded', next_attempt_at = NULL
                WHERE group_id = \(id) AND integration = \(notification.integration) AND state = 'pending'
                """)
            statements.append(
                """
                INSERT INTO notifications (group_id, receiver, integration, firing, resolved, alerts_hash, content, state, created_at, next_attempt_at)
                VALUES (\(id), \(content.receiver), \(notification.integration), \(content.firing.count), \(content.resolved.count),
                        \(content.alertsHash), \(try json(content)), 'pending', \(now), \(now))
                """)
        }
        if let notified = flush.notified {
            statements.append(
                """
                UPDATE alert_groups SET last_notified_at = \(notified.at), notified_firing = \(try json(notified.firing.sorted())),
                notified_resolved = \(try json(notified.resolved.sorted())) WHERE id = \(id)
                """)
        }
        let ack = flush.acknowledgement
        statements.append(
            """
            UPDATE alert_groups SET next_flush_at = \(flush.nextFlushAt), has_flushed = \(true), ack_by = \(ack?.by), ack_at = \(ack?.at),
            ack_via = \(ack?.via), ack_comment = \(ack?.comment) WHERE id = \(id)
            """)
        for alert in flush.removeAlerts {
            statements.append(
                """
                DELETE FROM alert_group_members WHERE group_id = \(id) AND tenant = \(alert.tenant) AND environment = \(alert.environment)
                AND fingerprint = \(alert.fingerprint)
                """)
        }
        statements.append("DELETE FROM alert_groups WHERE id = \(id) AND NOT EXISTS (SELECT 1 FROM alert_group_members WHERE group_id = \(id))")
        return statements
    }

    public func alertGroups(tenant: String?, at now: Date) async throws -> [AlertGroup] {
        try await database.snapshot { db in
            let rows =
                if let tenant {
                    try await db.rows(
                        """
                        SELECT * FROM alert_groups g WHERE EXISTS (SELECT 1 FROM alert_group_members m WHERE m.group_id = g.id AND m.tenant = \(tenant))
                        ORDER BY created_at, id
                        """)
                } else {
                    try await db.rows("SELECT * FROM alert_groups ORDER BY created_at, id")
                }
            var groups: [AlertGroup] = []
            for row in rows { groups.append(Self.group(try await Self.snapshot(db, row), withAlerts: false, at: now)) }
            return groups
        }
    }

    public func alertGroup(id: String, at now: Date) async throws -> AlertGroup? {
        try await database.snapshot { db in
            guard let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(id)") else { return nil }
            return Self.group(try await Self.snapshot(db, row), withAlerts: true, at: now)
        }
    }

    public func setAcknowledgement(groupID: String, _ ack: Acknowledgement?, at now: Date) async throws -> AlertGroup {
        try await database.write { db in
            let updated = try await db.count(
                """
                UPDATE alert_groups SET ack_by = \(ack?.by), ack_at = \(ack?.at), ack_via = \(ack?.via), ack_comment = \(ack?.comment)
                WHERE id = \(groupID) RETURNING 1
                """)
            guard updated > 0, let row = try await db.one("SELECT * FROM alert_groups WHERE id = \(groupID)") else {
                throw StoreError.notFound("alert group \"\(groupID)\" not found (it may have resolved and been removed)")
            }
            return Self.group(try await Self.snapshot(db, row), withAlerts: false, at: now)
        }
    }

    static func snapshot(_ db: any SQLConnection, _ row: SQLRow) async throws -> AlertGroupSnapshot {
        let id = try row.get("id", as: String.self)
        let alerts = try await db.rows(
            """
            SELECT a.* FROM alert_group_members m
            JOIN alerts a ON a.tenant = m.tenant AND a.environment = m.environment AND a.fingerprint = m.fingerprint
            WHERE m.group_id = \(id) ORDER BY a.starts_at, a.tenant, a.environment, a.fingerprint
            """
        ).map(alert)
        let acknowledgement = try row.optionalDate("ack_at").map {
            Acknowledgement(
                by: try row.get("ack_by", as: String?.self) ?? "", at: $0, via: try row.get("ack_via", as: String?.self) ?? "",
                comment: try row.get("ack_comment", as: String?.self))
        }
        return AlertGroupSnapshot(
            id: id, route: try row.get("route"), receiver: try row.get("receiver"),
            groupLabels: try decode([String: String].self, try row.get("group_labels")),
            createdAt: try row.date("created_at"), nextFlushAt: try row.date("next_flush_at"),
            lastNotifiedAt: try row.optionalDate("last_notified_at"),
            notifiedFiring: Set(try decode([String].self, try row.get("notified_firing"))),
            notifiedResolved: Set(try decode([String].self, try row.get("notified_resolved"))), acknowledgement: acknowledgement,
            alerts: alerts)
    }

    static func group(_ snapshot: AlertGroupSnapshot, withAlerts: Bool, at now: Date) -> AlertGroup {
        let firing = snapshot.alerts.filter { $0.isFiring(at: now) }.count
        return AlertGroup(
            id: snapshot.id, route: snapshot.route, receiver: snapshot.receiver, groupLabels: snapshot.groupLabels,
            firing: firing, resolved: snapshot.alerts.count - firing, createdAt: snapshot.createdAt, nextFlushAt: snapshot.nextFlushAt,
            lastNotifiedAt: snapshot.lastNotifiedAt, acknowledgement: snapshot.acknowledgement,
            alerts: withAlerts ? snapshot.alerts : nil)
    }
}
