import Foundation
import Logging
import PostgresNIO

/// Versioned schema of the PostgreSQL store, recorded in `schema_migrations`. Append-only: never edit
/// a migration that has shipped. Several replicas may start at once: each runs the pending migrations
/// inside one transaction that first takes a transaction-scoped advisory lock, so a second replica
/// waits for the first to commit and then finds every version applied.
public enum PostgresMigrations {
    /// Text compares and sorts by code point (`COLLATE "C"`), as SQLite's BINARY does, whatever the
    /// database's own collation: lists come back in the same order from both stores.
    ///
    /// Key of the advisory lock taken while migrating ("qbeast-m" in ASCII).
    static let lockKey: Int64 = 0x7162_6561_7374_2D6D

    public static let migrations: [(version: String, statements: [String])] = [
        (
            "v1-schema",
            [
                """
                CREATE TABLE tenants (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    display_name TEXT COLLATE "C",
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE environments (
                    tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(name),
                    name TEXT COLLATE "C" NOT NULL,
                    cloud TEXT COLLATE "C" NOT NULL,
                    mode TEXT COLLATE "C" NOT NULL,
                    desired_revision BIGINT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    agent_facts TEXT COLLATE "C",
                    agent_last_seen DOUBLE PRECISION,
                    revoked_at DOUBLE PRECISION,
                    namespace TEXT COLLATE "C" NOT NULL DEFAULT 'qbeast',
                    registry TEXT COLLATE "C",
                    PRIMARY KEY (tenant, name)
                )
                """,
                """
                CREATE TABLE workspaces (
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    name TEXT COLLATE "C" NOT NULL,
                    generation BIGINT NOT NULL,
                    spec TEXT COLLATE "C" NOT NULL,
                    status TEXT COLLATE "C",
                    created_at DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, environment, name),
                    FOREIGN KEY (tenant, environment) REFERENCES environments(tenant, name)
                )
                """,
                """
                CREATE TABLE resolved_components (
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    workspace TEXT COLLATE "C" NOT NULL,
                    component TEXT COLLATE "C" NOT NULL,
                    position BIGINT NOT NULL,
                    hash TEXT COLLATE "C" NOT NULL,
                    object_count BIGINT NOT NULL,
                    resolved TEXT COLLATE "C" NOT NULL,
                    PRIMARY KEY (tenant, environment, workspace, component),
                    FOREIGN KEY (tenant, environment, workspace) REFERENCES workspaces(tenant, environment, name) ON DELETE CASCADE
                )
                """,
                "CREATE INDEX resolved_components_hash ON resolved_components (tenant, environment, hash)",
                """
                CREATE TABLE alert_batches (
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    instance TEXT COLLATE "C" NOT NULL,
                    sequence BIGINT NOT NULL,
                    alert_count BIGINT NOT NULL,
                    dropped_before BIGINT NOT NULL,
                    received_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, environment, instance, sequence)
                )
                """,
                """
                CREATE TABLE alerts (
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    fingerprint TEXT COLLATE "C" NOT NULL,
                    workspace TEXT COLLATE "C" NOT NULL,
                    state TEXT COLLATE "C" NOT NULL,
                    labels TEXT COLLATE "C" NOT NULL,
                    annotations TEXT COLLATE "C" NOT NULL,
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
                    id TEXT COLLATE "C" PRIMARY KEY,
                    route TEXT COLLATE "C" NOT NULL,
                    receiver TEXT COLLATE "C" NOT NULL,
                    group_labels TEXT COLLATE "C" NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    next_flush_at DOUBLE PRECISION NOT NULL,
                    has_flushed BOOLEAN NOT NULL DEFAULT false,
                    last_notified_at DOUBLE PRECISION,
                    notified_firing TEXT COLLATE "C" NOT NULL DEFAULT '[]',
                    notified_resolved TEXT COLLATE "C" NOT NULL DEFAULT '[]',
                    ack_by TEXT COLLATE "C",
                    ack_at DOUBLE PRECISION,
                    ack_via TEXT COLLATE "C",
                    ack_comment TEXT COLLATE "C"
                )
                """,
                "CREATE INDEX alert_groups_next_flush ON alert_groups (next_flush_at)",
                """
                CREATE TABLE alert_group_members (
                    group_id TEXT COLLATE "C" NOT NULL REFERENCES alert_groups(id) ON DELETE CASCADE,
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    fingerprint TEXT COLLATE "C" NOT NULL,
                    PRIMARY KEY (group_id, tenant, environment, fingerprint)
                )
                """,
                "CREATE INDEX alert_group_members_alert ON alert_group_members (tenant, environment, fingerprint)",
                """
                CREATE TABLE notifications (
                    id BIGSERIAL PRIMARY KEY,
                    group_id TEXT COLLATE "C" NOT NULL,
                    receiver TEXT COLLATE "C" NOT NULL,
                    integration TEXT COLLATE "C" NOT NULL,
                    firing BIGINT NOT NULL,
                    resolved BIGINT NOT NULL,
                    alerts_hash TEXT COLLATE "C" NOT NULL,
                    content TEXT COLLATE "C" NOT NULL,
                    state TEXT COLLATE "C" NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    created_at DOUBLE PRECISION NOT NULL,
                    next_attempt_at DOUBLE PRECISION,
                    sent_at DOUBLE PRECISION,
                    last_error TEXT COLLATE "C"
                )
                """,
                "CREATE INDEX notifications_pending ON notifications (state, next_attempt_at)",
                "CREATE INDEX notifications_group ON notifications (group_id, integration)",
                """
                CREATE TABLE silences (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    matchers TEXT COLLATE "C" NOT NULL,
                    starts_at DOUBLE PRECISION NOT NULL,
                    ends_at DOUBLE PRECISION NOT NULL,
                    created_by TEXT COLLATE "C" NOT NULL,
                    comment TEXT COLLATE "C" NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE enrollment_tokens (
                    token_hash TEXT COLLATE "C" PRIMARY KEY,
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    used_at DOUBLE PRECISION
                )
                """,
                """
                CREATE TABLE certificates (
                    serial TEXT COLLATE "C" PRIMARY KEY,
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    method TEXT COLLATE "C" NOT NULL,
                    not_before DOUBLE PRECISION NOT NULL,
                    not_after DOUBLE PRECISION NOT NULL,
                    issued_at DOUBLE PRECISION NOT NULL,
                    revoked_at DOUBLE PRECISION
                )
                """,
                "CREATE INDEX certificates_environment ON certificates (tenant, environment)",
                """
                CREATE TABLE service_account_trust (
                    tenant TEXT COLLATE "C" NOT NULL,
                    environment TEXT COLLATE "C" NOT NULL,
                    trust TEXT COLLATE "C" NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, environment)
                )
                """,
                """
                CREATE TABLE audit_log (
                    id BIGSERIAL PRIMARY KEY,
                    at DOUBLE PRECISION NOT NULL,
                    actor TEXT COLLATE "C" NOT NULL,
                    action TEXT COLLATE "C" NOT NULL,
                    target TEXT COLLATE "C" NOT NULL,
                    result TEXT COLLATE "C" NOT NULL,
                    address TEXT COLLATE "C",
                    detail TEXT COLLATE "C"
                )
                """,
                """
                CREATE TABLE api_tokens (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL,
                    role TEXT COLLATE "C" NOT NULL,
                    tenant TEXT COLLATE "C",
                    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
                    created_at DOUBLE PRECISION NOT NULL,
                    created_by TEXT COLLATE "C" NOT NULL,
                    revoked_at DOUBLE PRECISION
                )
                """,
            ]
        ),
        // Several replicas deliver from one outbox: a replica claims due notifications for a lease;
        // one that dies leaves them to be taken over when the lease runs out.
        (
            "v2-notification-leases",
            [
                #"ALTER TABLE notifications ADD COLUMN claimed_by TEXT COLLATE "C""#,
                "ALTER TABLE notifications ADD COLUMN lease_until DOUBLE PRECISION",
            ]
        ),
        // A request that went out without its answer being recorded: the receiver may have it.
        (
            "v3-delivery-attempts",
            [
                "ALTER TABLE notifications ADD COLUMN attempt_started_at DOUBLE PRECISION"
            ]
        ),
        // Managed environments: the customer's cloud access and what the provisioner saw of the Crossplane XR (JSON).
        (
            "v4-managed-environments",
            [
                #"ALTER TABLE environments ADD COLUMN cloud_access TEXT COLLATE "C""#,
                #"ALTER TABLE environments ADD COLUMN provisioning TEXT COLLATE "C""#,
            ]
        ),
    ]

    /// Applies what is pending; returns the versions this call applied.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.transaction(logger) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger)
            try await connection.run(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT COLLATE "C" PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """, logger)
            let applied = Set(try await connection.rows("SELECT version FROM schema_migrations", logger).map { try $0.get("version", String.self) })
            var done: [String] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger)
                }
                try await connection.run(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(Date().timeIntervalSince1970))",
                    logger)
                done.append(migration.version)
            }
            return done
        }
    }
}
