import Foundation
import GRDB
import SplitPlaneProtocol

/// Versioned schema. Migrations are append-only: never edit one that has shipped.
public enum SQLiteMigrations {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tenants (
                        name TEXT PRIMARY KEY,
                        display_name TEXT,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE environments (
                        tenant TEXT NOT NULL REFERENCES tenants(name),
                        name TEXT NOT NULL,
                        cloud TEXT NOT NULL,
                        mode TEXT NOT NULL,
                        desired_revision INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        agent_facts TEXT,
                        agent_last_seen REAL,
                        PRIMARY KEY (tenant, name)
                    );
                    CREATE TABLE workspaces (
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        name TEXT NOT NULL,
                        generation INTEGER NOT NULL,
                        spec TEXT NOT NULL,
                        status TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (tenant, environment, name),
                        FOREIGN KEY (tenant, environment) REFERENCES environments(tenant, name)
                    );
                    CREATE TABLE alert_batches (
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        instance TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        alert_count INTEGER NOT NULL,
                        dropped_before INTEGER NOT NULL,
                        received_at REAL NOT NULL,
                        PRIMARY KEY (tenant, environment, instance, sequence)
                    );
                    CREATE TABLE alerts (
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        workspace TEXT NOT NULL,
                        state TEXT NOT NULL,
                        labels TEXT NOT NULL,
                        annotations TEXT NOT NULL,
                        starts_at REAL NOT NULL,
                        ends_at REAL,
                        value REAL,
                        received_at REAL NOT NULL,
                        PRIMARY KEY (tenant, environment, fingerprint)
                    );
                    CREATE TABLE revision_counter (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        value INTEGER NOT NULL
                    );
                    INSERT INTO revision_counter (id, value) VALUES (1, 0);
                    """)
        }
        migrator.registerMigration("v2-alerting") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert_groups (
                        id TEXT PRIMARY KEY,
                        route TEXT NOT NULL,
                        receiver TEXT NOT NULL,
                        group_labels TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        next_flush_at REAL NOT NULL,
                        has_flushed INTEGER NOT NULL DEFAULT 0,
                        last_notified_at REAL,
                        notified_firing TEXT NOT NULL DEFAULT '[]',
                        notified_resolved TEXT NOT NULL DEFAULT '[]',
                        ack_by TEXT,
                        ack_at REAL,
                        ack_via TEXT,
                        ack_comment TEXT
                    );
                    CREATE INDEX alert_groups_next_flush ON alert_groups (next_flush_at);
                    CREATE TABLE alert_group_members (
                        group_id TEXT NOT NULL REFERENCES alert_groups(id) ON DELETE CASCADE,
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        PRIMARY KEY (group_id, tenant, environment, fingerprint)
                    );
                    CREATE INDEX alert_group_members_alert ON alert_group_members (tenant, environment, fingerprint);
                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        group_id TEXT NOT NULL,
                        receiver TEXT NOT NULL,
                        integration TEXT NOT NULL,
                        firing INTEGER NOT NULL,
                        resolved INTEGER NOT NULL,
                        alerts_hash TEXT NOT NULL,
                        content TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL,
                        next_attempt_at REAL,
                        sent_at REAL,
                        last_error TEXT
                    );
                    CREATE INDEX notifications_pending ON notifications (state, next_attempt_at);
                    CREATE INDEX notifications_group ON notifications (group_id, integration);
                    CREATE TABLE silences (
                        id TEXT PRIMARY KEY,
                        matchers TEXT NOT NULL,
                        starts_at REAL NOT NULL,
                        ends_at REAL NOT NULL,
                        created_by TEXT NOT NULL,
                        comment TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3-identity") { db in
            try db.execute(
                sql: """
                    CREATE TABLE enrollment_tokens (
                        token_hash TEXT PRIMARY KEY,
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        used_at REAL
                    );
                    CREATE TABLE certificates (
                        serial TEXT PRIMARY KEY,
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        method TEXT NOT NULL,
                        not_before REAL NOT NULL,
                        not_after REAL NOT NULL,
                        issued_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    CREATE INDEX certificates_environment ON certificates (tenant, environment);
                    ALTER TABLE environments ADD COLUMN revoked_at REAL;
                    CREATE TABLE service_account_trust (
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        trust TEXT NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (tenant, environment)
                    );
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        result TEXT NOT NULL,
                        address TEXT,
                        detail TEXT
                    );
                    """)
        }
        migrator.registerMigration("v4-api-tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_tokens (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        tenant TEXT,
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at REAL NOT NULL,
                        created_by TEXT NOT NULL,
                        revoked_at REAL
                    );
                    """)
        }
        migrator.registerMigration("v5-components") { db in
            try db.execute(
                sql: """
                    ALTER TABLE environments ADD COLUMN namespace TEXT NOT NULL DEFAULT 'qbeast';
                    ALTER TABLE environments ADD COLUMN registry TEXT;
                    CREATE TABLE resolved_components (
                        tenant TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        workspace TEXT NOT NULL,
                        component TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        hash TEXT NOT NULL,
                        object_count INTEGER NOT NULL,
                        resolved TEXT NOT NULL,
                        PRIMARY KEY (tenant, environment, workspace, component),
                        FOREIGN KEY (tenant, environment, workspace) REFERENCES workspaces(tenant, environment, name) ON DELETE CASCADE
                    );
                    CREATE INDEX resolved_components_hash ON resolved_components (tenant, environment, hash);
                    """)
            // Workspaces stored before keep the references they were served with (manifests as given,
            // charts empty) until they are applied again or their environment is patched.
            for row in try Row.fetchAll(db, sql: "SELECT tenant, environment, name, spec FROM workspaces") {
                let spec = try StrictJSON.decoder().decode(WorkspaceSpec.self, from: Data((row["spec"] as String).utf8))
                for (position, component) in spec.components.enumerated() {
                    let resolved = try ResolvedComponent(name: component.name, manifests: component.manifests ?? [])
                    try db.execute(
                        sql: """
                            INSERT INTO resolved_components (tenant, environment, workspace, component, position, hash, object_count, resolved)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            row["tenant"], row["environment"], row["name"], component.name, position, resolved.hash,
                            resolved.manifests.count, String(decoding: try StrictJSON.encode(resolved), as: UTF8.self),
                        ])
                }
            }
        }
        // A request that went out without its answer being recorded: the receiver may have it.
        migrator.registerMigration("v6-delivery-attempts") { db in
            try db.execute(sql: "ALTER TABLE notifications ADD COLUMN attempt_started_at REAL")
        }
        // One store for both databases: the outbox is claimed the same way in SQLite (trivially, by its one
        // process) as in PostgreSQL (v2-notification-leases there).
        migrator.registerMigration("v7-notification-leases") { db in
            try db.execute(
                sql: """
                    ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
                    ALTER TABLE notifications ADD COLUMN lease_until REAL;
                    """)
        }
        // Managed environments: the customer's cloud access and what the provisioner saw of the Crossplane XR (JSON).
        migrator.registerMigration("v8-managed-environments") { db in
            try db.execute(
                sql: """
                    ALTER TABLE environments ADD COLUMN cloud_access TEXT;
                    ALTER TABLE environments ADD COLUMN provisioning TEXT;
                    """)
        }
        return migrator
    }
}
