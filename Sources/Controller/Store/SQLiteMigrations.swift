import GRDB

/// Versioned schema. Migrations are append-only: never edit one that has shipped.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
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
        return migrator
    }
}
