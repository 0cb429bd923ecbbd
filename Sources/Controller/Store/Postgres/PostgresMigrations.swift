import Foundation
import Logging
import PostgresNIO

/// Versioned schema of the PostgreSQL store, recorded in `schema_migrations`. Append-only: never edit
/// a migration that has shipped. Several replicas may start at once: each runs the pending migrations
/// inside one transaction that first takes a transaction-scoped advisory lock, so a second replica
/// waits for the first to commit and then finds every version applied.
enum PostgresMigrations {
    /// Key of the advisory lock taken while migrating ("qbeast-m" in ASCII).
    static let lockKey: Int64 = 0x7162_6561_7374_2D6D

    static let migrations: [(version: String, statements: [String])] = [
        ("v1-schema", [
            """
            CREATE TABLE tenants (
                name TEXT PRIMARY KEY,
                display_name TEXT,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE environments (
                tenant TEXT NOT NULL REFERENCES tenants(name),
                name TEXT NOT NULL,
                cloud TEXT NOT NULL,
                mode TEXT NOT NULL,
                desired_revision BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                agent_facts TEXT,
                agent_last_seen DOUBLE PRECISION,
                revoked_at DOUBLE PRECISION,
                namespace TEXT NOT NULL DEFAULT 'qbeast',
                registry TEXT,
                PRIMARY KEY (tenant, name)
            )
            """,
            """
            CREATE TABLE workspaces (
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                name TEXT NOT NULL,
                generation BIGINT NOT NULL,
                spec TEXT NOT NULL,
                status TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, environment, name),
                FOREIGN KEY (tenant, environment) REFERENCES environments(tenant, name)
            )
            """,
            """
            CREATE TABLE resolved_components (
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                workspace TEXT NOT NULL,
                component TEXT NOT NULL,
                position BIGINT NOT NULL,
                hash TEXT NOT NULL,
                object_count BIGINT NOT NULL,
                resolved TEXT NOT NULL,
                PRIMARY KEY (tenant, environment, workspace, component),
                FOREIGN KEY (tenant, environment, workspace) REFERENCES workspaces(tenant, environment, name) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX resolved_components_hash ON resolved_components (tenant, environment, hash)",
            """
            CREATE TABLE alert_batches (
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                instance TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                alert_count BIGINT NOT NULL,
                dropped_before BIGINT NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, environment, instance, sequence)
            )
            """,
            """
            CREATE TABLE alerts (
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                workspace TEXT NOT NULL,
                state TEXT NOT NULL,
                labels TEXT NOT NULL,
                annotations TEXT NOT NULL,
                starts_at DOUBLE PRECISION NOT NULL,
                ends_at DOUBLE PRECISION,
                value DOUBLE PRECISION,
                received_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, environment, fingerprint)
            )
            """,
            """
            CREATE TABLE revision_counter (
                id BIGINT PRIMARY KEY CHECK (id = 1),
                value BIGINT NOT NULL
            )
            """,
            "INSERT INTO revision_counter (id, value) VALUES (1, 0)",
            """
            CREATE TABLE alert_groups (
                id TEXT PRIMARY KEY,
                route TEXT NOT NULL,
                receiver TEXT NOT NULL,
                group_labels TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                next_flush_at DOUBLE PRECISION NOT NULL,
                has_flushed BOOLEAN NOT NULL DEFAULT false,
                last_notified_at DOUBLE PRECISION,
                notified_firing TEXT NOT NULL DEFAULT '[]',
                notified_resolved TEXT NOT NULL DEFAULT '[]',
                ack_by TEXT,
                ack_at DOUBLE PRECISION,
                ack_via TEXT,
                ack_comment TEXT
            )
            """,
            "CREATE INDEX alert_groups_next_flush ON alert_groups (next_flush_at)",
            """
            CREATE TABLE alert_group_members (
                group_id TEXT NOT NULL REFERENCES alert_groups(id) ON DELETE CASCADE,
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                PRIMARY KEY (group_id, tenant, environment, fingerprint)
            )
            """,
            "CREATE INDEX alert_group_members_alert ON alert_group_members (tenant, environment, fingerprint)",
            """
            CREATE TABLE notifications (
                id BIGSERIAL PRIMARY KEY,
                group_id TEXT NOT NULL,
                receiver TEXT NOT NULL,
                integration TEXT NOT NULL,
                firing BIGINT NOT NULL,
                resolved BIGINT NOT NULL,
                alerts_hash TEXT NOT NULL,
                content TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                next_attempt_at DOUBLE PRECISION,
                sent_at DOUBLE PRECISION,
                last_error TEXT
            )
            """,
            "CREATE INDEX notifications_pending ON notifications (state, next_attempt_at)",
            "CREATE INDEX notifications_group ON notifications (group_id, integration)",
            """
            CREATE TABLE silences (
                id TEXT PRIMARY KEY,
                matchers TEXT NOT NULL,
                starts_at DOUBLE PRECISION NOT NULL,
                ends_at DOUBLE PRECISION NOT NULL,
                created_by TEXT NOT NULL,
                comment TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE enrollment_tokens (
                token_hash TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                used_at DOUBLE PRECISION
            )
            """,
            """
            CREATE TABLE certificates (
                serial TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                method TEXT NOT NULL,
                not_before DOUBLE PRECISION NOT NULL,
                not_after DOUBLE PRECISION NOT NULL,
                issued_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION
            )
            """,
            "CREATE INDEX certificates_environment ON certificates (tenant, environment)",
            """
            CREATE TABLE service_account_trust (
                tenant TEXT NOT NULL,
                environment TEXT NOT NULL,
                trust TEXT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, environment)
            )
            """,
            """
            CREATE TABLE audit_log (
                id BIGSERIAL PRIMARY KEY,
                at DOUBLE PRECISION NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                result TEXT NOT NULL,
                address TEXT,
                detail TEXT
            )
            """,
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                tenant TEXT,
                token_hash TEXT NOT NULL UNIQUE,
                created_at DOUBLE PRECISION NOT NULL,
                created_by TEXT NOT NULL,
                revoked_at DOUBLE PRECISION
            )
            """,
        ]),
        // Several replicas deliver from one outbox: a replica claims due notifications for a lease;
        // one that dies leaves them to be taken over when the lease runs out.
        ("v2-notification-leases", [
            "ALTER TABLE notifications ADD COLUMN claimed_by TEXT",
            "ALTER TABLE notifications ADD COLUMN lease_until DOUBLE PRECISION",
        ]),
    ]

    /// Applies what is pending; returns the versions this call applied.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.transaction(logger) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """, logger)
            let applied = Set(try await connection.rows("SELECT version FROM schema_migrations", logger).map { try $0.get("version", String.self) })
            var done: [String] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger)
                }
                try await connection.run("INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(Date().timeIntervalSince1970))",
                                         logger)
                done.append(migration.version)
            }
            return done
        }
    }
}
