import ControllerModel
import Foundation
import SplitPlaneProtocol

/// What agents read and report: desired state, resolved components, status, alert batches.
extension SQLStore {
    public func desiredState(tenant: String, environment: String) async throws -> DesiredState? {
        // One snapshot, so the revision and the workspaces belong together.
        try await database.snapshot { db in
            guard
                let revision = try await db.scalar(
                    "SELECT desired_revision FROM environments WHERE tenant = \(tenant) AND name = \(environment)",
                    as: Int64.self)
            else { return nil }
            let workspaces = try await db.rows("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY name")
                .map(Self.workspace)
            var refs: [String: [ComponentRef]] = [:]
            for component in try await db.rows(
                """
                SELECT workspace, component, hash, object_count FROM resolved_components
                WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY workspace, position
                """)
            {
                refs[try component.get("workspace", as: String.self), default: []].append(
                    ComponentRef(
                        name: try component.get("component"), hash: try component.get("hash"), objects: try component.get("object_count", as: Int.self)))
            }
            return DesiredState(
                tenant: tenant, environment: environment, revision: revision,
                workspaces: workspaces.map { workspace in
                    DesiredWorkspace(
                        name: workspace.name, generation: workspace.generation, components: refs[workspace.name] ?? [],
                        ruleGroups: workspace.spec.ruleGroups, alertAllowlist: workspace.spec.alertAllowlist)
                })
        }
    }

    public func resolvedComponent(tenant: String, environment: String, hash: String) async throws -> ResolvedComponent? {
        try await database.read { db in
            try await db.scalar(
                """
                SELECT resolved FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND hash = \(hash) LIMIT 1
                """, as: String.self
            ).map { try Self.decode(ResolvedComponent.self, $0) }
        }
    }

    public func recordLastSeen(_ sightings: [AgentSighting]) async throws {
        guard !sightings.isEmpty else { return }
        let dialect = self.dialect
        try await database.write { db in
            try await db.executeAll(
                sightings.map { sighting in
                    """
                    UPDATE environments SET agent_last_seen = \(dialect.greatest("COALESCE(agent_last_seen, 0)", "\(sighting.at)"))
                    WHERE tenant = \(sighting.tenant) AND name = \(sighting.environment)
                    """
                })
        }
    }

    public func recordStatus(tenant: String, environment: String, report: StatusReport, at now: Date) async throws {
        let facts = try Self.json(report.agent)
        let statuses = try report.workspaces.map { status in
            (
                status.name,
                try Self.json(
                    ReportedWorkspaceStatus(
                        observedGeneration: status.observedGeneration, conditions: status.conditions,
                        components: status.components, reportedAt: now))
            )
        }
        try await database.write { db in
            try await Self.requireEnvironment(db, tenant, environment)
            // Status of a workspace the controller no longer has (deleted while the agent worked) is dropped.
            try await db.executeAll(
                ["UPDATE environments SET agent_facts = \(facts), agent_last_seen = \(now) WHERE tenant = \(tenant) AND name = \(environment)"]
                    + statuses.map { name, status in
                        "UPDATE workspaces SET status = \(status) WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)"
                    })
        }
    }

    public func recordAlertBatch(tenant: String, environment: String, batch: AlertBatch, at now: Date, assign: @escaping AlertAssigner) async throws -> Bool {
        // Everything that needs no database happens before the transaction starts.
        let prepared = try batch.alerts.map { alert in
            let stored = StoredAlert(
                tenant: tenant, environment: environment, workspace: alert.workspace, fingerprint: alert.fingerprint,
                state: alert.state, labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt,
                endsAt: alert.endsAt, value: alert.value, receivedAt: now)
            return (stored, try Self.json(alert.labels), try Self.json(alert.annotations), assign(stored))
        }
        // Alerts in the order of their fingerprints (a fingerprint twice keeps its order: the last wins),
        // so concurrent batches on PostgreSQL lock alert rows in one order; then their groups.
        let upserts: [SQL] = prepared.enumerated()
            .sorted { ($0.element.0.fingerprint, $0.offset) < ($1.element.0.fingerprint, $1.offset) }
            .map(\.element).map { alert, labels, annotations, _ in
                """
                INSERT INTO alerts (tenant, environment, fingerprint, workspace, state, labels, annotations, starts_at, ends_at, value, received_at)
                VALUES (\(tenant), \(environment), \(alert.fingerprint), \(alert.workspace), \(alert.state.rawValue), \(labels), \(annotations),
                        \(alert.startsAt), \(alert.endsAt), \(alert.value), \(now))
                ON CONFLICT (tenant, environment, fingerprint) DO UPDATE SET
                  workspace = excluded.workspace, state = excluded.state, labels = excluded.labels,
                  annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                  value = excluded.value, received_at = excluded.received_at
                """
            }
        let joins = try Self.joinStatements(prepared.map { ($0.0, $0.3) }, at: now, dialect: dialect)
        return try await database.write { db in
            try await Self.requireEnvironment(db, tenant, environment)
            // A concurrent insert of the same key waits for the first to commit and then does nothing.
            let inserted = try await db.count(
                """
                INSERT INTO alert_batches (tenant, environment, instance, sequence, alert_count, dropped_before, received_at)
                VALUES (\(tenant), \(environment), \(batch.instance), \(batch.sequence), \(batch.alerts.count), \(batch.droppedBatches ?? 0), \(now))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            guard inserted > 0 else { return false }
            try await db.executeAll(upserts + joins)
            return true
        }
    }

    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        var conditions: [SQL] = []
        if let tenant = filter.tenant { conditions.append("tenant = \(tenant)") }
        if let environment = filter.environment { conditions.append("environment = \(environment)") }
        if let state = filter.state { conditions.append("state = \(state.rawValue)") }
        let whereClause: SQL = conditions.isEmpty ? "" : "WHERE \(SQL.joined(conditions, separator: " AND "))"
        return try await database.read { db in
            try await db.rows("SELECT * FROM alerts \(whereClause) ORDER BY tenant, environment, starts_at, fingerprint").map(Self.alert)
        }
    }
}
