import ControllerModel
import Foundation
import Logging
import PostgresNIO
import SplitPlaneProtocol

/// The store for several controller replicas: one PostgreSQL database through a PostgresNIO
/// connection pool. Same schema shape and the same semantics as `SQLiteStore` (every method that
/// writes runs in one transaction; the same `StoreError`s); writes that move an environment's
/// desired-state revision also `NOTIFY` the other replicas (see `PostgresStore+ChangeFeed`).
public final class PostgresStore: ControllerStore {
    let client: PostgresClient
    let logger: Logger
    /// Who claims notifications in the shared outbox (one per process).
    let replicaID: String
    /// How long a claimed notification stays with its replica before another may take it over. The
    /// replica renews it while its delivery round runs and at each send, so it only has to outlast
    /// one request's timeout (10 s).
    let leaseDuration: TimeInterval
    private let runTask: Task<Void, Never>

    /// Connects (the pool runs in a task of its own until `close()`), runs pending migrations and returns the store.
    /// Gives up (throws) when the database does not answer within `startupTimeout`.
    public static func connect(_ url: PostgresURL, logger: Logger, replicaID: String = UUID().uuidString,
                               leaseDuration: TimeInterval = 30, maximumConnections: Int = 20,
                               startupTimeout: Duration = .seconds(30)) async throws -> PostgresStore {
        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        let store = await PostgresStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger),
                                        logger: logger, replicaID: replicaID, leaseDuration: leaseDuration)
        do {
            let applied = try await withThrowingTaskGroup(of: [String]?.self) { group in
                group.addTask { try await PostgresMigrations.migrate(store.client, logger: logger) }
                group.addTask {
                    try await Task.sleep(for: startupTimeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let applied = try await group.next()! else {
                    throw PostgresStoreError("no answer within \(startupTimeout)")
                }
                return applied
            }
            if !applied.isEmpty { logger.info("database migrated", metadata: ["database": "\(url)", "applied": "\(applied)"]) }
        } catch {
            await store.close()
            throw PostgresStoreError("cannot prepare the database \(url): \(String(reflecting: error))")
        }
        return store
    }

    private init(client: PostgresClient, logger: Logger, replicaID: String, leaseDuration: TimeInterval) async {
        self.client = client
        self.logger = logger
        self.replicaID = replicaID
        self.leaseDuration = leaseDuration
        // Detached: the pool must not inherit a service group's graceful-shutdown context and close
        // before the services that use it. The stream says the task is about to call `run()` (else the
        // first lease logs that `run()` was not called yet).
        let (started, continuation) = AsyncStream<Void>.makeStream()
        runTask = Task.detached {
            continuation.finish()
            await client.run()
        }
        for await _ in started {}
    }

    /// Closes every pooled connection.
    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    // MARK: Tenants

    public func createTenant(_ request: TenantRequest, at now: Date) async throws -> Tenant {
        try await client.transaction(logger) { db in
            let inserted = try await db.run("""
                INSERT INTO tenants (name, display_name, created_at) VALUES (\(request.name), \(request.displayName), \(now.timeIntervalSince1970))
                ON CONFLICT (name) DO NOTHING RETURNING 1
                """, logger)
            if inserted == 0 { throw StoreError.conflict("tenant \"\(request.name)\" already exists") }
            return Tenant(name: request.name, displayName: request.displayName, createdAt: now)
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await client.withConnection { db in
            try await db.rows("SELECT * FROM tenants ORDER BY name", logger).map(Self.tenant)
        }
    }

    public func tenant(_ name: String) async throws -> Tenant? {
        try await client.withConnection { db in
            try await db.one("SELECT * FROM tenants WHERE name = \(name)", logger).map(Self.tenant)
        }
    }

    public func deleteTenant(_ name: String) async throws {
        try await client.transaction(logger) { db in
            guard try await db.exists("SELECT 1 FROM tenants WHERE name = \(name) FOR UPDATE", logger) else {
                throw StoreError.notFound("tenant \"\(name)\" not found")
            }
            let environments = try await db.one("SELECT COUNT(*) AS n FROM environments WHERE tenant = \(name)", logger)!.get("n", Int.self)
            if environments > 0 {
                throw StoreError.conflict("tenant \"\(name)\" still has \(environments) environment(s); delete them first")
            }
            try await db.run("DELETE FROM tenants WHERE name = \(name)", logger)
        }
    }

    // MARK: Environments

    public func createEnvironment(tenant: String, _ request: EnvironmentRequest, at now: Date) async throws -> Environment {
        try await client.transaction(logger) { db in
            // The tenant row stays locked to the end: a concurrent deleteTenant cannot slip in between.
            try await Self.requireTenant(db, tenant, logger, lock: true)
            if try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(request.name)", logger) {
                throw StoreError.conflict("environment \"\(request.name)\" already exists in tenant \"\(tenant)\"")
            }
            let revision = try await Self.nextRevision(db, logger)
            let namespace = request.namespace ?? EnvironmentSettings.defaultNamespace
            let inserted = try await db.run("""
                INSERT INTO environments (tenant, name, cloud, mode, desired_revision, created_at, namespace, registry)
                VALUES (\(tenant), \(request.name), \(request.cloud.rawValue), \(request.mode.rawValue), \(revision), \(now.timeIntervalSince1970),
                        \(namespace), \(request.registry))
                ON CONFLICT (tenant, name) DO NOTHING RETURNING 1
                """, logger)
            if inserted == 0 { throw StoreError.conflict("environment \"\(request.name)\" already exists in tenant \"\(tenant)\"") }
            try await Self.announce(db, tenant, request.name, revision: revision, logger)
            return Environment(tenant: tenant, name: request.name, cloud: request.cloud, mode: request.mode,
                               desiredRevision: revision, createdAt: now, namespace: namespace, registry: request.registry)
        }
    }

    public func environments(tenant: String) async throws -> [Environment] {
        try await client.withConnection { db in
            try await Self.requireTenant(db, tenant, logger)
            return try await db.rows("SELECT * FROM environments WHERE tenant = \(tenant) ORDER BY name", logger).map(Self.environment)
        }
    }

    public func environment(tenant: String, name: String) async throws -> Environment? {
        try await client.withConnection { db in
            try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)", logger).map(Self.environment)
        }
    }

    public func deleteEnvironment(tenant: String, name: String) async throws -> Int64 {
        try await client.transaction(logger) { db in
            try await Self.requireEnvironment(db, tenant, name, logger, lock: true)
            let workspaces = try await db.one("SELECT COUNT(*) AS n FROM workspaces WHERE tenant = \(tenant) AND environment = \(name)", logger)!
                .get("n", Int.self)
            if workspaces > 0 {
                throw StoreError.conflict("environment \"\(name)\" still has \(workspaces) workspace(s); delete them first")
            }
            try await db.run("DELETE FROM environments WHERE tenant = \(tenant) AND name = \(name)", logger)
            let revision = try await Self.nextRevision(db, logger)
            try await Self.announce(db, tenant, name, revision: revision, logger)
            return revision
        }
    }

    public func updateEnvironmentSettings(tenant: String, name: String, from expected: EnvironmentSettings, to settings: EnvironmentSettings,
                                          workspaces: [ResolvedWorkspace], at now: Date) async throws -> EnvironmentUpdateResult {
        let prepared = try workspaces.map { ($0, try Self.prepare($0.components)) }
        return try await client.transaction(logger) { db in
            try await Self.requireEnvironment(db, tenant, name, logger, lock: true)
            try await Self.requireSettings(db, tenant, name, expected, logger)
            let current = try await db.rows("SELECT name, generation FROM workspaces WHERE tenant = \(tenant) AND environment = \(name) ORDER BY name",
                                            logger).map { "\(try $0.get("name", String.self))@\(try $0.get("generation", Int64.self))" }
            guard current == workspaces.map({ "\($0.name)@\($0.generation)" }).sorted() else {
                throw StoreError.conflict("the workspaces of \(tenant)/\(name) changed while their components were being resolved; try again")
            }
            guard settings != expected else {
                let row = try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)", logger)!
                return EnvironmentUpdateResult(environment: try Self.environment(row), revision: nil)
            }
            let revision = try await Self.nextRevision(db, logger)
            try await db.run("""
                UPDATE environments SET namespace = \(settings.namespace), registry = \(settings.registry), desired_revision = \(revision)
                WHERE tenant = \(tenant) AND name = \(name)
                """, logger)
            for (workspace, rows) in prepared {
                guard try await Self.storedHashes(db, tenant, name, workspace.name, logger) != workspace.components.map(\.hash) else { continue }
                try await db.run("""
                    UPDATE workspaces SET generation = generation + 1, updated_at = \(now.timeIntervalSince1970)
                    WHERE tenant = \(tenant) AND environment = \(name) AND name = \(workspace.name)
                    """, logger)
                try await Self.replaceComponents(db, tenant, name, workspace.name, rows, logger)
            }
            try await Self.announce(db, tenant, name, revision: revision, logger)
            let row = try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)", logger)!
            return EnvironmentUpdateResult(environment: try Self.environment(row), revision: revision)
        }
    }

    // MARK: Workspaces

    public func applyWorkspace(tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
                               resolvedFor settings: EnvironmentSettings, precondition: GenerationPrecondition,
                               at now: Date) async throws -> WorkspaceApplyResult {
        let specJSON = try Self.json(spec)
        let rows = try Self.prepare(components)
        return try await client.transaction(logger) { db in
            // Locking the environment row serialises every write to its workspaces, as SQLite's one writer does.
            try await Self.requireEnvironment(db, tenant, environment, logger, lock: true)
            try await Self.requireSettings(db, tenant, environment, settings, logger)
            let existing = try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)", logger)
            if let failure = precondition.failure("workspace \"\(name)\"", current: try existing?.get("generation", Int64.self)) {
                throw StoreError.preconditionFailed(failure)
            }
            if let existing, try existing.get("spec", String.self) == specJSON,
               try await Self.storedHashes(db, tenant, environment, name, logger) == components.map(\.hash) {
                return WorkspaceApplyResult(workspace: try Self.workspace(existing), created: false, revision: nil)
            }
            let revision = try await Self.nextRevision(db, logger)
            try await db.run("UPDATE environments SET desired_revision = \(revision) WHERE tenant = \(tenant) AND name = \(environment)", logger)
            if existing != nil {
                try await db.run("""
                    UPDATE workspaces SET spec = \(specJSON), generation = generation + 1, updated_at = \(now.timeIntervalSince1970)
                    WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)
                    """, logger)
            } else {
                try await db.run("""
                    INSERT INTO workspaces (tenant, environment, name, generation, spec, created_at, updated_at)
                    VALUES (\(tenant), \(environment), \(name), 1, \(specJSON), \(now.timeIntervalSince1970), \(now.timeIntervalSince1970))
                    """, logger)
            }
            try await Self.replaceComponents(db, tenant, environment, name, rows, logger)
            try await Self.announce(db, tenant, environment, revision: revision, logger)
            let row = try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)", logger)!
            return WorkspaceApplyResult(workspace: try Self.workspace(row), created: existing == nil, revision: revision)
        }
    }

    public func workspaces(tenant: String, environment: String) async throws -> [Workspace] {
        try await client.withConnection { db in
            try await Self.requireEnvironment(db, tenant, environment, logger)
            return try await db.rows("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY name", logger)
                .map(Self.workspace)
        }
    }

    public func workspaceNames(tenant: String, environment: String) async throws -> Set<String> {
        try await client.withConnection { db in
            Set(try await db.rows("SELECT name FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment)", logger)
                .map { try $0.get("name", String.self) })
        }
    }

    public func workspace(tenant: String, environment: String, name: String) async throws -> Workspace? {
        try await client.withConnection { db in
            try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)", logger)
                .map(Self.workspace)
        }
    }

    public func deleteWorkspace(tenant: String, environment: String, name: String, precondition: GenerationPrecondition) async throws -> Int64 {
        try await client.transaction(logger) { db in
            try await db.run("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment) FOR UPDATE", logger)
            if precondition != .any {
                let current = try await db.one("""
                    SELECT generation FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)
                    """, logger)?.get("generation", Int64.self)
                // A workspace that does not exist is answered as not found below, whatever the precondition.
                if current != nil, let failure = precondition.failure("workspace \"\(name)\"", current: current) {
                    throw StoreError.preconditionFailed(failure)
                }
            }
            let deleted = try await db.run("DELETE FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name) RETURNING 1",
                                           logger)
            guard deleted > 0 else {
                throw StoreError.notFound("workspace \"\(name)\" not found in \(tenant)/\(environment)")
            }
            let revision = try await Self.nextRevision(db, logger)
            try await db.run("UPDATE environments SET desired_revision = \(revision) WHERE tenant = \(tenant) AND name = \(environment)", logger)
            try await Self.announce(db, tenant, environment, revision: revision, logger)
            return revision
        }
    }

    // MARK: Agent side

    public func desiredState(tenant: String, environment: String) async throws -> DesiredState? {
        // One transaction (REPEATABLE READ) so the revision and the workspaces are read from one snapshot.
        try await client.transaction(logger) { db in
            try await db.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger)
            guard let row = try await db.one("SELECT desired_revision FROM environments WHERE tenant = \(tenant) AND name = \(environment)", logger)
            else { return nil }
            let workspaces = try await db.rows("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY name", logger)
                .map(Self.workspace)
            var refs: [String: [ComponentRef]] = [:]
            for component in try await db.rows("""
                SELECT workspace, component, hash, object_count FROM resolved_components
                WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY workspace, position
                """, logger) {
                refs[try component.get("workspace", String.self), default: []].append(
                    ComponentRef(name: try component.get("component"), hash: try component.get("hash"), objects: try component.get("object_count", Int.self)))
            }
            return DesiredState(tenant: tenant, environment: environment, revision: try row.get("desired_revision", Int64.self),
                                workspaces: workspaces.map { workspace in
                                    DesiredWorkspace(name: workspace.name, generation: workspace.generation,
                                                     components: refs[workspace.name] ?? [],
                                                     ruleGroups: workspace.spec.ruleGroups, alertAllowlist: workspace.spec.alertAllowlist)
                                })
        }
    }

    public func resolvedComponent(tenant: String, environment: String, hash: String) async throws -> ResolvedComponent? {
        try await client.withConnection { db in
            try await db.one("""
                SELECT resolved FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND hash = \(hash) LIMIT 1
                """, logger).map { try Self.decode(ResolvedComponent.self, try $0.get("resolved", String.self)) }
        }
    }

    public func recordStatus(tenant: String, environment: String, report: StatusReport, at now: Date) async throws {
        let facts = try Self.json(report.agent)
        let statuses = try report.workspaces.map { status in
            (status.name, try Self.json(ReportedWorkspaceStatus(observedGeneration: status.observedGeneration, conditions: status.conditions,
                                                                components: status.components, reportedAt: now)))
        }
        try await client.transaction(logger) { db in
            try await Self.requireEnvironment(db, tenant, environment, logger)
            try await db.run("""
                UPDATE environments SET agent_facts = \(facts), agent_last_seen = \(now.timeIntervalSince1970) WHERE tenant = \(tenant) AND name = \(environment)
                """, logger)
            // Status of a workspace the controller no longer has (deleted while the agent worked) is dropped.
            for (name, status) in statuses {
                try await db.run("UPDATE workspaces SET status = \(status) WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)",
                                 logger)
            }
        }
    }

    public func recordAlertBatch(tenant: String, environment: String, batch: AlertBatch, at now: Date, assign: AlertAssigner) async throws -> Bool {
        let prepared = try batch.alerts.map { alert in
            let stored = StoredAlert(tenant: tenant, environment: environment, workspace: alert.workspace, fingerprint: alert.fingerprint,
                                     state: alert.state, labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt,
                                     endsAt: alert.endsAt, value: alert.value, receivedAt: now)
            return (stored, try Self.json(alert.labels), try Self.json(alert.annotations), assign(stored))
        }
        return try await client.transaction(logger) { db in
            try await Self.requireEnvironment(db, tenant, environment, logger)
            // A concurrent insert of the same key waits for the first to commit and then does nothing.
            let inserted = try await db.run("""
                INSERT INTO alert_batches (tenant, environment, instance, sequence, alert_count, dropped_before, received_at)
                VALUES (\(tenant), \(environment), \(batch.instance), \(Int64(batch.sequence)), \(batch.alerts.count), \(batch.droppedBatches ?? 0),
                        \(now.timeIntervalSince1970))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger)
            guard inserted > 0 else { return false }
            // Alerts in the order of their fingerprints (a fingerprint twice keeps its order: the last
            // wins), so concurrent batches lock alert rows in one order; then their groups.
            let byFingerprint = prepared.enumerated()
                .sorted { ($0.element.0.fingerprint, $0.offset) < ($1.element.0.fingerprint, $1.offset) }.map(\.element)
            for (alert, labels, annotations, _) in byFingerprint {
                try await db.run("""
                    INSERT INTO alerts (tenant, environment, fingerprint, workspace, state, labels, annotations, starts_at, ends_at, value, received_at)
                    VALUES (\(tenant), \(environment), \(alert.fingerprint), \(alert.workspace), \(alert.state.rawValue), \(labels), \(annotations),
                            \(alert.startsAt.timeIntervalSince1970), \(alert.endsAt?.timeIntervalSince1970), \(alert.value), \(now.timeIntervalSince1970))
                    ON CONFLICT (tenant, environment, fingerprint) DO UPDATE SET
                      workspace = excluded.workspace, state = excluded.state, labels = excluded.labels,
                      annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                      value = excluded.value, received_at = excluded.received_at
                    """, logger)
            }
            try await Self.join(db, prepared.map { ($0.0, $0.3) }, at: now, logger)
            return true
        }
    }

    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        var clauses: [String] = []
        var binds = PostgresBindings()
        for (column, value) in [("tenant", filter.tenant), ("environment", filter.environment), ("state", filter.state?.rawValue)] {
            guard let value else { continue }
            binds.append(value)
            clauses.append("\(column) = $\(binds.count)")
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let query = PostgresQuery(unsafeSQL: "SELECT * FROM alerts \(whereClause) ORDER BY tenant, environment, starts_at, fingerprint", binds: binds)
        return try await client.withConnection { db in
            try await db.rows(query, logger).map(Self.alert)
        }
    }

    // MARK: Helpers

    static func requireTenant(_ db: PostgresConnection, _ tenant: String, _ logger: Logger, lock: Bool = false) async throws {
        let found = lock ? try await db.exists("SELECT 1 FROM tenants WHERE name = \(tenant) FOR SHARE", logger)
                         : try await db.exists("SELECT 1 FROM tenants WHERE name = \(tenant)", logger)
        guard found else { throw StoreError.notFound("tenant \"\(tenant)\" not found") }
    }

    /// With `lock`, the environment's row stays locked (`FOR UPDATE`) to the end of the transaction.
    static func requireEnvironment(_ db: PostgresConnection, _ tenant: String, _ environment: String, _ logger: Logger, lock: Bool = false) async throws {
        try await requireTenant(db, tenant, logger)
        let found = lock ? try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment) FOR UPDATE", logger)
                         : try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment)", logger)
        guard found else { throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"") }
    }

    /// Refuses when the environment's namespace or registry are not those components were resolved for.
    private static func requireSettings(_ db: PostgresConnection, _ tenant: String, _ environment: String, _ settings: EnvironmentSettings,
                                        _ logger: Logger) async throws {
        let row = try await db.one("SELECT namespace, registry FROM environments WHERE tenant = \(tenant) AND name = \(environment)", logger)
        guard let row, EnvironmentSettings(namespace: try row.get("namespace"), registry: try row.get("registry", String?.self)) == settings else {
            throw StoreError.conflict("the namespace or registry of \(tenant)/\(environment) changed while components were being resolved; try again")
        }
    }

    private static func prepare(_ components: [ResolvedComponent]) throws -> [(ResolvedComponent, String)] {
        try components.map { ($0, try json($0)) }
    }

    private static func storedHashes(_ db: PostgresConnection, _ tenant: String, _ environment: String, _ workspace: String,
                                     _ logger: Logger) async throws -> [String] {
        try await db.rows("""
            SELECT hash FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND workspace = \(workspace) ORDER BY position
            """, logger).map { try $0.get("hash", String.self) }
    }

    private static func replaceComponents(_ db: PostgresConnection, _ tenant: String, _ environment: String, _ workspace: String,
                                          _ rows: [(ResolvedComponent, String)], _ logger: Logger) async throws {
        try await db.run("DELETE FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND workspace = \(workspace)", logger)
        for (position, (component, json)) in rows.enumerated() {
            try await db.run("""
                INSERT INTO resolved_components (tenant, environment, workspace, component, position, hash, object_count, resolved)
                VALUES (\(tenant), \(environment), \(workspace), \(component.name), \(position), \(component.hash), \(component.manifests.count), \(json))
                """, logger)
        }
    }

    /// Revisions come from one counter for the whole store (its row lock orders concurrent writers),
    /// so an environment deleted and created again never hands its agent a revision it has already seen.
    private static func nextRevision(_ db: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        try await db.one("UPDATE revision_counter SET value = value + 1 WHERE id = 1 RETURNING value", logger)!.get("value", Int64.self)
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try StrictJSON.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StrictJSON.decoder().decode(type, from: Data(text.utf8))
    }

    private static func tenant(_ row: PGRow) throws -> Tenant {
        Tenant(name: try row.get("name"), displayName: try row.get("display_name", String?.self), createdAt: try row.date("created_at"))
    }

    private static func environment(_ row: PGRow) throws -> Environment {
        let facts = try row.get("agent_facts", String?.self)
        return Environment(tenant: try row.get("tenant"), name: try row.get("name"), cloud: Cloud(rawValue: try row.get("cloud"))!,
                           mode: EnvironmentMode(rawValue: try row.get("mode"))!, desiredRevision: try row.get("desired_revision"),
                           createdAt: try row.date("created_at"), agent: try facts.map { try decode(AgentFacts.self, $0) },
                           agentLastSeen: try row.optionalDate("agent_last_seen"), namespace: try row.get("namespace"),
                           registry: try row.get("registry", String?.self))
    }

    private static func workspace(_ row: PGRow) throws -> Workspace {
        let status = try row.get("status", String?.self)
        return Workspace(tenant: try row.get("tenant"), environment: try row.get("environment"), name: try row.get("name"),
                         generation: try row.get("generation"), spec: try decode(WorkspaceSpec.self, try row.get("spec")),
                         status: try status.map { try decode(ReportedWorkspaceStatus.self, $0) },
                         createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func alert(_ row: PGRow) throws -> StoredAlert {
        StoredAlert(tenant: try row.get("tenant"), environment: try row.get("environment"), workspace: try row.get("workspace"),
                    fingerprint: try row.get("fingerprint"), state: AlertState(rawValue: try row.get("state")) ?? .firing,
                    labels: try decode([String: String].self, try row.get("labels")),
                    annotations: try decode([String: String].self, try row.get("annotations")),
                    startsAt: try row.date("starts_at"), endsAt: try row.optionalDate("ends_at"), value: try row.get("value", Double?.self),
                    receivedAt: try row.date("received_at"))
    }
}

public struct PostgresStoreError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
