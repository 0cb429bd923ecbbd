import ControllerModel
import Crypto
import Foundation
import GRDB
import SplitPlaneProtocol

/// The embedded store: one SQLite file in WAL mode through GRDB.
public final class SQLiteStore: ControllerStore {
    let database: DatabasePool

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        database = try DatabasePool(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(database)
    }

    // MARK: Tenants

    public func createTenant(_ request: TenantRequest, at now: Date) async throws -> Tenant {
        try await database.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE name = ?", arguments: [request.name]) != nil {
                throw StoreError.conflict("tenant \"\(request.name)\" already exists")
            }
            try db.execute(sql: "INSERT INTO tenants (name, display_name, created_at) VALUES (?, ?, ?)",
                           arguments: [request.name, request.displayName, now.timeIntervalSince1970])
            return Tenant(name: request.name, displayName: request.displayName, createdAt: now)
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tenants ORDER BY name").map(Self.tenant)
        }
    }

    public func tenant(_ name: String) async throws -> Tenant? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tenants WHERE name = ?", arguments: [name]).map(Self.tenant)
        }
    }

    public func deleteTenant(_ name: String) async throws {
        try await database.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE name = ?", arguments: [name]) != nil else {
                throw StoreError.notFound("tenant \"\(name)\" not found")
            }
            let environments = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM environments WHERE tenant = ?", arguments: [name]) ?? 0
            if environments > 0 {
                throw StoreError.conflict("tenant \"\(name)\" still has \(environments) environment(s); delete them first")
            }
            try db.execute(sql: "DELETE FROM tenants WHERE name = ?", arguments: [name])
        }
    }

    // MARK: Environments

    public func createEnvironment(tenant: String, _ request: EnvironmentRequest, at now: Date) async throws -> Environment {
        try await database.write { db in
            try Self.requireTenant(db, tenant)
            if try Row.fetchOne(db, sql: "SELECT 1 FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, request.name]) != nil {
                throw StoreError.conflict("environment \"\(request.name)\" already exists in tenant \"\(tenant)\"")
            }
            let revision = try Self.nextRevision(db)
            let namespace = request.namespace ?? EnvironmentSettings.defaultNamespace
            try db.execute(sql: """
                INSERT INTO environments (tenant, name, cloud, mode, desired_revision, created_at, namespace, registry)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [tenant, request.name, request.cloud.rawValue, request.mode.rawValue, revision, now.timeIntervalSince1970,
                                 namespace, request.registry])
            return Environment(tenant: tenant, name: request.name, cloud: request.cloud, mode: request.mode,
                               desiredRevision: revision, createdAt: now, namespace: namespace, registry: request.registry)
        }
    }

    public func environments(tenant: String) async throws -> [Environment] {
        try await database.read { db in
            try Self.requireTenant(db, tenant)
            return try Row.fetchAll(db, sql: "SELECT * FROM environments WHERE tenant = ? ORDER BY name", arguments: [tenant])
                .map(Self.environment)
        }
    }

    public func environment(tenant: String, name: String) async throws -> Environment? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, name])
                .map(Self.environment)
        }
    }

    public func deleteEnvironment(tenant: String, name: String) async throws -> Int64 {
        try await database.write { db in
            try Self.requireEnvironment(db, tenant, name)
            let workspaces = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workspaces WHERE tenant = ? AND environment = ?",
                                              arguments: [tenant, name]) ?? 0
            if workspaces > 0 {
                throw StoreError.conflict("environment \"\(name)\" still has \(workspaces) workspace(s); delete them first")
            }
            try db.execute(sql: "DELETE FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, name])
            return try Self.nextRevision(db)
        }
    }

    public func updateEnvironmentSettings(tenant: String, name: String, from expected: EnvironmentSettings, to settings: EnvironmentSettings,
                                          workspaces: [ResolvedWorkspace], at now: Date) async throws -> EnvironmentUpdateResult {
        let prepared = try workspaces.map { ($0, try Self.prepare($0.components)) }
        return try await database.write { db in
            try Self.requireEnvironment(db, tenant, name)
            try Self.requireSettings(db, tenant, name, expected)
            let current = try Row.fetchAll(db, sql: "SELECT name, generation FROM workspaces WHERE tenant = ? AND environment = ? ORDER BY name",
                                           arguments: [tenant, name]).map { "\($0["name"] as String)@\($0["generation"] as Int64)" }
            guard current == workspaces.map({ "\($0.name)@\($0.generation)" }).sorted() else {
                throw StoreError.conflict("the workspaces of \(tenant)/\(name) changed while their components were being resolved; try again")
            }
            guard settings != expected else {
                let row = try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, name])!
                return EnvironmentUpdateResult(environment: try Self.environment(row), revision: nil)
            }
            let revision = try Self.nextRevision(db)
            try db.execute(sql: "UPDATE environments SET namespace = ?, registry = ?, desired_revision = ? WHERE tenant = ? AND name = ?",
                           arguments: [settings.namespace, settings.registry, revision, tenant, name])
            for (workspace, rows) in prepared {
                guard try Self.storedHashes(db, tenant, name, workspace.name) != workspace.components.map(\.hash) else { continue }
                try db.execute(sql: "UPDATE workspaces SET generation = generation + 1, updated_at = ? WHERE tenant = ? AND environment = ? AND name = ?",
                               arguments: [now.timeIntervalSince1970, tenant, name, workspace.name])
                try Self.replaceComponents(db, tenant, name, workspace.name, rows)
            }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, name])!
            return EnvironmentUpdateResult(environment: try Self.environment(row), revision: revision)
        }
    }

    // MARK: Workspaces

    public func applyWorkspace(tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
                               resolvedFor settings: EnvironmentSettings, precondition: GenerationPrecondition, at now: Date) async throws -> WorkspaceApplyResult {
        let specJSON = try Self.json(spec)
        let rows = try Self.prepare(components)
        return try await database.write { db in
            try Self.requireEnvironment(db, tenant, environment)
            try Self.requireSettings(db, tenant, environment, settings)
            let existing = try Row.fetchOne(db, sql: "SELECT * FROM workspaces WHERE tenant = ? AND environment = ? AND name = ?",
                                            arguments: [tenant, environment, name])
            if let failure = precondition.failure("workspace \"\(name)\"", current: existing?["generation"]) {
                throw StoreError.preconditionFailed(failure)
            }
            if let existing, (existing["spec"] as String) == specJSON,
               try Self.storedHashes(db, tenant, environment, name) == components.map(\.hash) {
                return WorkspaceApplyResult(workspace: try Self.workspace(existing), created: false, revision: nil)
            }
            let revision = try Self.nextRevision(db)
            try db.execute(sql: "UPDATE environments SET desired_revision = ? WHERE tenant = ? AND name = ?",
                           arguments: [revision, tenant, environment])
            if existing != nil {
                try db.execute(sql: """
                    UPDATE workspaces SET spec = ?, generation = generation + 1, updated_at = ?
                    WHERE tenant = ? AND environment = ? AND name = ?
                    """, arguments: [specJSON, now.timeIntervalSince1970, tenant, environment, name])
            } else {
                try db.execute(sql: """
                    INSERT INTO workspaces (tenant, environment, name, generation, spec, created_at, updated_at)
                    VALUES (?, ?, ?, 1, ?, ?, ?)
                    """, arguments: [tenant, environment, name, specJSON, now.timeIntervalSince1970, now.timeIntervalSince1970])
            }
            try Self.replaceComponents(db, tenant, environment, name, rows)
            let row = try Row.fetchOne(db, sql: "SELECT * FROM workspaces WHERE tenant = ? AND environment = ? AND name = ?",
                                       arguments: [tenant, environment, name])!
            return WorkspaceApplyResult(workspace: try Self.workspace(row), created: existing == nil, revision: revision)
        }
    }

    public func workspaces(tenant: String, environment: String) async throws -> [Workspace] {
        try await database.read { db in
            try Self.requireEnvironment(db, tenant, environment)
            return try Row.fetchAll(db, sql: "SELECT * FROM workspaces WHERE tenant = ? AND environment = ? ORDER BY name",
                                    arguments: [tenant, environment]).map(Self.workspace)
        }
    }

    public func workspaceNames(tenant: String, environment: String) async throws -> Set<String> {
        try await database.read { db in
            Set(try String.fetchAll(db, sql: "SELECT name FROM workspaces WHERE tenant = ? AND environment = ?", arguments: [tenant, environment]))
        }
    }

    public func workspace(tenant: String, environment: String, name: String) async throws -> Workspace? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM workspaces WHERE tenant = ? AND environment = ? AND name = ?",
                             arguments: [tenant, environment, name]).map(Self.workspace)
        }
    }

    public func deleteWorkspace(tenant: String, environment: String, name: String, precondition: GenerationPrecondition) async throws -> Int64 {
        try await database.write { db in
            if precondition != .any {
                let current = try Int64.fetchOne(db, sql: "SELECT generation FROM workspaces WHERE tenant = ? AND environment = ? AND name = ?",
                                                 arguments: [tenant, environment, name])
                // A workspace that does not exist is answered as not found below, whatever the precondition.
                if current != nil, let failure = precondition.failure("workspace \"\(name)\"", current: current) {
                    throw StoreError.preconditionFailed(failure)
                }
            }
            try db.execute(sql: "DELETE FROM workspaces WHERE tenant = ? AND environment = ? AND name = ?",
                           arguments: [tenant, environment, name])
            guard db.changesCount > 0 else {
                throw StoreError.notFound("workspace \"\(name)\" not found in \(tenant)/\(environment)")
            }
            let revision = try Self.nextRevision(db)
            try db.execute(sql: "UPDATE environments SET desired_revision = ? WHERE tenant = ? AND name = ?",
                           arguments: [revision, tenant, environment])
            return revision
        }
    }

    // MARK: Agent side

    public func desiredState(tenant: String, environment: String) async throws -> DesiredState? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT desired_revision FROM environments WHERE tenant = ? AND name = ?",
                                             arguments: [tenant, environment]) else { return nil }
            let workspaces = try Row.fetchAll(db, sql: "SELECT * FROM workspaces WHERE tenant = ? AND environment = ? ORDER BY name",
                                              arguments: [tenant, environment]).map(Self.workspace)
            var refs: [String: [ComponentRef]] = [:]
            for component in try Row.fetchAll(db, sql: """
                SELECT workspace, component, hash, object_count FROM resolved_components
                WHERE tenant = ? AND environment = ? ORDER BY workspace, position
                """, arguments: [tenant, environment]) {
                refs[component["workspace"], default: []].append(ComponentRef(name: component["component"], hash: component["hash"],
                                                                              objects: component["object_count"]))
            }
            return DesiredState(tenant: tenant, environment: environment, revision: row["desired_revision"],
                                workspaces: workspaces.map { workspace in
                                    DesiredWorkspace(name: workspace.name, generation: workspace.generation,
                                                     components: refs[workspace.name] ?? [],
                                                     ruleGroups: workspace.spec.ruleGroups, alertAllowlist: workspace.spec.alertAllowlist)
                                })
        }
    }

    public func resolvedComponent(tenant: String, environment: String, hash: String) async throws -> ResolvedComponent? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT resolved FROM resolved_components WHERE tenant = ? AND environment = ? AND hash = ? LIMIT 1",
                                arguments: [tenant, environment, hash]).map { try Self.decode(ResolvedComponent.self, $0) }
        }
    }

    public func recordStatus(tenant: String, environment: String, report: StatusReport, at now: Date) async throws {
        let facts = try Self.json(report.agent)
        let statuses = try report.workspaces.map { status in
            (status.name, try Self.json(ReportedWorkspaceStatus(observedGeneration: status.observedGeneration, conditions: status.conditions,
                                                                components: status.components, reportedAt: now)))
        }
        try await database.write { db in
            try Self.requireEnvironment(db, tenant, environment)
            try db.execute(sql: "UPDATE environments SET agent_facts = ?, agent_last_seen = ? WHERE tenant = ? AND name = ?",
                           arguments: [facts, now.timeIntervalSince1970, tenant, environment])
            // Status of a workspace the controller no longer has (deleted while the agent worked) is dropped.
            for (name, status) in statuses {
                try db.execute(sql: "UPDATE workspaces SET status = ? WHERE tenant = ? AND environment = ? AND name = ?",
                               arguments: [status, tenant, environment, name])
            }
        }
    }

    public func recordAlertBatch(tenant: String, environment: String, batch: AlertBatch, at now: Date, assign: AlertAssigner) async throws -> Bool {
        // Everything that needs no database happens before taking the write lock.
        let prepared = try batch.alerts.map { alert in
            let stored = StoredAlert(tenant: tenant, environment: environment, workspace: alert.workspace, fingerprint: alert.fingerprint,
                                     state: alert.state, labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt,
                                     endsAt: alert.endsAt, value: alert.value, receivedAt: now)
            return (stored, try Self.json(alert.labels), try Self.json(alert.annotations), assign(stored))
        }
        return try await database.write { db in
            try Self.requireEnvironment(db, tenant, environment)
            try db.execute(sql: """
                INSERT OR IGNORE INTO alert_batches (tenant, environment, instance, sequence, alert_count, dropped_before, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [tenant, environment, batch.instance, batch.sequence, batch.alerts.count, batch.droppedBatches ?? 0,
                                 now.timeIntervalSince1970])
            guard db.changesCount > 0 else { return false }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO alerts (tenant, environment, fingerprint, workspace, state, labels, annotations, starts_at, ends_at, value, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, environment, fingerprint) DO UPDATE SET
                  workspace = excluded.workspace, state = excluded.state, labels = excluded.labels,
                  annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                  value = excluded.value, received_at = excluded.received_at
                """)
            for (alert, labels, annotations, assignments) in prepared {
                try upsert.execute(arguments: [tenant, environment, alert.fingerprint, alert.workspace, alert.state.rawValue, labels, annotations,
                                               alert.startsAt.timeIntervalSince1970, alert.endsAt?.timeIntervalSince1970, alert.value,
                                               now.timeIntervalSince1970])
                try Self.join(db, alert, assignments, at: now)
            }
            return true
        }
    }

    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let tenant = filter.tenant { clauses.append("tenant = ?"); arguments.append(tenant) }
        if let environment = filter.environment { clauses.append("environment = ?"); arguments.append(environment) }
        if let state = filter.state { clauses.append("state = ?"); arguments.append(state.rawValue) }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sqlArguments = StatementArguments(arguments)
        return try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts \(whereClause) ORDER BY tenant, environment, starts_at, fingerprint",
                             arguments: sqlArguments).map(Self.alert)
        }
    }

    // MARK: Helpers

    static func requireTenant(_ db: Database, _ tenant: String) throws {
        guard try Row.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE name = ?", arguments: [tenant]) != nil else {
            throw StoreError.notFound("tenant \"\(tenant)\" not found")
        }
    }

    private static func requireEnvironment(_ db: Database, _ tenant: String, _ environment: String) throws {
        try requireTenant(db, tenant)
        guard try Row.fetchOne(db, sql: "SELECT 1 FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, environment]) != nil else {
            throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
        }
    }

    /// Refuses when the environment's namespace or registry are not those components were resolved for.
    private static func requireSettings(_ db: Database, _ tenant: String, _ environment: String, _ settings: EnvironmentSettings) throws {
        let row = try Row.fetchOne(db, sql: "SELECT namespace, registry FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, environment])
        guard let row, EnvironmentSettings(namespace: row["namespace"], registry: row["registry"]) == settings else {
            throw StoreError.conflict("the namespace or registry of \(tenant)/\(environment) changed while components were being resolved; try again")
        }
    }

    /// Row values of resolved components, made before taking the write lock.
    private static func prepare(_ components: [ResolvedComponent]) throws -> [(ResolvedComponent, String)] {
        try components.map { ($0, try json($0)) }
    }

    private static func storedHashes(_ db: Database, _ tenant: String, _ environment: String, _ workspace: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT hash FROM resolved_components WHERE tenant = ? AND environment = ? AND workspace = ? ORDER BY position",
                            arguments: [tenant, environment, workspace])
    }

    private static func replaceComponents(_ db: Database, _ tenant: String, _ environment: String, _ workspace: String,
                                          _ rows: [(ResolvedComponent, String)]) throws {
        try db.execute(sql: "DELETE FROM resolved_components WHERE tenant = ? AND environment = ? AND workspace = ?",
                       arguments: [tenant, environment, workspace])
        for (position, (component, json)) in rows.enumerated() {
            try db.execute(sql: """
                INSERT INTO resolved_components (tenant, environment, workspace, component, position, hash, object_count, resolved)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [tenant, environment, workspace, component.name, position, component.hash, component.manifests.count, json])
        }
    }

    /// Revisions come from one counter for the whole store, so an environment deleted and created
    /// again never hands its agent a revision it has already seen.
    private static func nextRevision(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE revision_counter SET value = value + 1 WHERE id = 1")
        return try Int64.fetchOne(db, sql: "SELECT value FROM revision_counter WHERE id = 1")!
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try StrictJSON.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StrictJSON.decoder().decode(type, from: Data(text.utf8))
    }

    static func date(_ value: Double) -> Date { Date(timeIntervalSince1970: value) }

    private static func tenant(_ row: Row) -> Tenant {
        Tenant(name: row["name"], displayName: row["display_name"], createdAt: date(row["created_at"]))
    }

    private static func environment(_ row: Row) throws -> Environment {
        let facts: String? = row["agent_facts"]
        let lastSeen: Double? = row["agent_last_seen"]
        return Environment(tenant: row["tenant"], name: row["name"], cloud: Cloud(rawValue: row["cloud"])!,
                           mode: EnvironmentMode(rawValue: row["mode"])!, desiredRevision: row["desired_revision"],
                           createdAt: date(row["created_at"]), agent: try facts.map { try decode(AgentFacts.self, $0) },
                           agentLastSeen: lastSeen.map(date), namespace: row["namespace"], registry: row["registry"])
    }

    private static func workspace(_ row: Row) throws -> Workspace {
        let status: String? = row["status"]
        return Workspace(tenant: row["tenant"], environment: row["environment"], name: row["name"], generation: row["generation"],
                         spec: try decode(WorkspaceSpec.self, row["spec"]),
                         status: try status.map { try decode(ReportedWorkspaceStatus.self, $0) },
                         createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    static func alert(_ row: Row) throws -> StoredAlert {
        let endsAt: Double? = row["ends_at"]
        return StoredAlert(tenant: row["tenant"], environment: row["environment"], workspace: row["workspace"],
                           fingerprint: row["fingerprint"], state: AlertState(rawValue: row["state"]) ?? .firing,
                           labels: try decode([String: String].self, row["labels"]),
                           annotations: try decode([String: String].self, row["annotations"]),
                           startsAt: date(row["starts_at"]), endsAt: endsAt.map(date), value: row["value"],
                           receivedAt: date(row["received_at"]))
    }
}
