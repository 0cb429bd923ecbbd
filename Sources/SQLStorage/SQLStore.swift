import ControllerModel
import Foundation
import Logging
import SplitPlaneProtocol
import Synchronization

/// The controller's store, written once over `SQLDatabase`: SQLite (one process) and PostgreSQL
/// (several replicas) differ only in their driver and `SQLDialect`. Every method that writes runs in
/// one transaction and throws the same `StoreError`s on both. A write that changes an environment's
/// desired state or revokes its certificates announces it (`StoreChange`): to this process's followers
/// once it commits, and to other replicas through the database (PostgreSQL's `NOTIFY`, sent inside the
/// transaction so it is delivered exactly when, and only if, the change commits).
public final class SQLStore: ControllerStore, StoreChangeFeed {
    public let database: any SQLDatabase
    let logger: Logger
    /// Who claims notifications in the outbox (one per process), and announces changes.
    public let replicaID: String
    /// How long a claimed notification stays with its replica before another may take it over. The
    /// replica renews it while its delivery round runs and at each send, so it only has to outlast
    /// one request's timeout (10 s).
    let leaseDuration: TimeInterval
    let hub = ChangeHub()

    var dialect: SQLDialect { database.dialect }

    public init(database: any SQLDatabase, logger: Logger, replicaID: String = UUID().uuidString, leaseDuration: TimeInterval = 30) {
        self.database = database
        self.logger = logger
        self.replicaID = replicaID
        self.leaseDuration = leaseDuration
    }

    public func close() async {
        await database.close()
    }

    // MARK: Transactions that announce

    /// The changes a transaction makes known once it commits.
    final class Announcements: Sendable {
        private let list = Mutex<[StoreChange]>([])
        func add(_ change: StoreChange) { list.withLock { $0.append(change) } }
        var all: [StoreChange] { list.withLock { $0 } }
    }

    /// A write transaction whose announced changes are sent to other replicas inside it and to this
    /// process's followers after it commits.
    func writeAnnouncing<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection, Announcements) async throws -> T) async throws -> T {
        let dialect = self.dialect
        let origin = replicaID
        let (result, changes) = try await database.write { db in
            let announcements = Announcements()
            let result = try await body(db, announcements)
            for change in announcements.all {
                let (channel, payload) = ChangeWire.message(change, origin: origin)
                if let statement = dialect.announce(channel, payload) { try await db.execute(statement) }
            }
            return (result, announcements.all)
        }
        hub.publish(changes)
        return result
    }

    // MARK: Tenants

    public func createTenant(_ request: TenantRequest, at now: Date) async throws -> Tenant {
        try await database.write { db in
            let inserted = try await db.count(
                """
                INSERT INTO tenants (name, display_name, created_at) VALUES (\(request.name), \(request.displayName), \(now))
                ON CONFLICT (name) DO NOTHING RETURNING 1
                """)
            if inserted == 0 { throw StoreError.conflict("tenant \"\(request.name)\" already exists") }
            return Tenant(name: request.name, displayName: request.displayName, createdAt: now)
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await database.read { db in try await db.rows("SELECT * FROM tenants ORDER BY name").map(Self.tenant) }
    }

    public func tenant(_ name: String) async throws -> Tenant? {
        try await database.read { db in try await db.one("SELECT * FROM tenants WHERE name = \(name)").map(Self.tenant) }
    }

    public func deleteTenant(_ name: String) async throws {
        let dialect = self.dialect
        try await database.write { db in
            guard try await db.exists("SELECT 1 FROM tenants WHERE name = \(name) \(raw: dialect.forUpdate)") else {
                throw StoreError.notFound("tenant \"\(name)\" not found")
            }
            let environments = try await db.scalar("SELECT COUNT(*) AS n FROM environments WHERE tenant = \(name)", as: Int.self) ?? 0
            if environments > 0 {
                throw StoreError.conflict("tenant \"\(name)\" still has \(environments) environment(s); delete them first")
            }
            try await db.execute("DELETE FROM tenants WHERE name = \(name)")
        }
    }

    // MARK: Environments

    public func createEnvironment(tenant: String, _ request: EnvironmentRequest, at now: Date) async throws -> Environment {
        let dialect = self.dialect
        return try await writeAnnouncing { db, announcements in
            // The tenant row stays locked to the end: a concurrent deleteTenant cannot slip in between.
            try await Self.requireTenant(db, tenant, lock: dialect.forShare)
            if try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(request.name)") {
                throw StoreError.conflict("environment \"\(request.name)\" already exists in tenant \"\(tenant)\"")
            }
            let revision = try await Self.nextRevision(db)
            let namespace = request.namespace ?? EnvironmentSettings.defaultNamespace
            let inserted = try await db.count(
                """
                INSERT INTO environments (tenant, name, cloud, mode, desired_revision, created_at, namespace, registry)
                VALUES (\(tenant), \(request.name), \(request.cloud.rawValue), \(request.mode.rawValue), \(revision), \(now), \(namespace), \(request.registry))
                ON CONFLICT (tenant, name) DO NOTHING RETURNING 1
                """)
            if inserted == 0 { throw StoreError.conflict("environment \"\(request.name)\" already exists in tenant \"\(tenant)\"") }
            announcements.add(.desiredState(tenant: tenant, environment: request.name, revision: revision))
            return Environment(
                tenant: tenant, name: request.name, cloud: request.cloud, mode: request.mode,
                desiredRevision: revision, createdAt: now, namespace: namespace, registry: request.registry)
        }
    }

    public func environments(tenant: String) async throws -> [Environment] {
        try await database.read { db in
            try await Self.requireTenant(db, tenant)
            return try await db.rows("SELECT * FROM environments WHERE tenant = \(tenant) ORDER BY name").map(Self.environment)
        }
    }

    public func environment(tenant: String, name: String) async throws -> Environment? {
        try await database.read { db in
            try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)").map(Self.environment)
        }
    }

    public func deleteEnvironment(tenant: String, name: String, at now: Date) async throws -> Int64 {
        let dialect = self.dialect
        return try await writeAnnouncing { db, announcements in
            try await Self.requireEnvironment(db, tenant, name, lock: dialect.forUpdate)
            let workspaces =
                try await db.scalar(
                    "SELECT COUNT(*) AS n FROM workspaces WHERE tenant = \(tenant) AND environment = \(name)",
                    as: Int.self) ?? 0
            if workspaces > 0 {
                throw StoreError.conflict("environment \"\(name)\" still has \(workspaces) workspace(s); delete them first")
            }
            try await db.executeAll([
                "UPDATE certificates SET revoked_at = \(now) WHERE tenant = \(tenant) AND environment = \(name) AND revoked_at IS NULL",
                "DELETE FROM enrollment_tokens WHERE tenant = \(tenant) AND environment = \(name)",
                "DELETE FROM service_account_trust WHERE tenant = \(tenant) AND environment = \(name)",
                "DELETE FROM environments WHERE tenant = \(tenant) AND name = \(name)",
            ])
            let revision = try await Self.nextRevision(db)
            announcements.add(.desiredState(tenant: tenant, environment: name, revision: revision))
            announcements.add(.revoked(tenant: tenant, environment: name))
            return revision
        }
    }

    public func updateEnvironmentSettings(
        tenant: String, name: String, from expected: EnvironmentSettings, to settings: EnvironmentSettings,
        workspaces: [ResolvedWorkspace], at now: Date
    ) async throws -> EnvironmentUpdateResult {
        let prepared = try workspaces.map { ($0, try Self.prepare($0.components)) }
        let dialect = self.dialect
        return try await writeAnnouncing { db, announcements in
            try await Self.requireEnvironment(db, tenant, name, lock: dialect.forUpdate)
            try await Self.requireSettings(db, tenant, name, expected)
            let current = try await db.rows("SELECT name, generation FROM workspaces WHERE tenant = \(tenant) AND environment = \(name) ORDER BY name")
                .map { "\(try $0.get("name", as: String.self))@\(try $0.get("generation", as: Int64.self))" }
            guard current == workspaces.map({ "\($0.name)@\($0.generation)" }).sorted() else {
                throw StoreError.conflict("the workspaces of \(tenant)/\(name) changed while their components were being resolved; try again")
            }
            guard settings != expected else {
                let row = try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)")!
                return EnvironmentUpdateResult(environment: try Self.environment(row), revision: nil)
            }
            let revision = try await Self.nextRevision(db)
            try await db.execute(
                """
                UPDATE environments SET namespace = \(settings.namespace), registry = \(settings.registry), desired_revision = \(revision)
                WHERE tenant = \(tenant) AND name = \(name)
                """)
            for (workspace, rows) in prepared {
                guard try await Self.storedHashes(db, tenant, name, workspace.name) != workspace.components.map(\.hash) else { continue }
                try await db.execute(
                    """
                    UPDATE workspaces SET generation = generation + 1, updated_at = \(now)
                    WHERE tenant = \(tenant) AND environment = \(name) AND name = \(workspace.name)
                    """)
                try await Self.replaceComponents(db, tenant, name, workspace.name, rows)
            }
            announcements.add(.desiredState(tenant: tenant, environment: name, revision: revision))
            let row = try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)")!
            return EnvironmentUpdateResult(environment: try Self.environment(row), revision: revision)
        }
    }

    // MARK: Workspaces

    public func applyWorkspace(
        tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
        resolvedFor settings: EnvironmentSettings, precondition: GenerationPrecondition,
        at now: Date
    ) async throws -> WorkspaceApplyResult {
        let specJSON = try Self.json(spec)
        let rows = try Self.prepare(components)
        let dialect = self.dialect
        return try await writeAnnouncing { db, announcements in
            // Locking the environment row serialises every write to its workspaces, as SQLite's one writer does.
            try await Self.requireEnvironment(db, tenant, environment, lock: dialect.forUpdate)
            try await Self.requireSettings(db, tenant, environment, settings)
            let existing = try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)")
            if let failure = precondition.failure("workspace \"\(name)\"", current: try existing?.get("generation", as: Int64.self)) {
                throw StoreError.preconditionFailed(failure)
            }
            if let existing, try existing.get("spec", as: String.self) == specJSON,
                try await Self.storedHashes(db, tenant, environment, name) == components.map(\.hash)
            {
                return WorkspaceApplyResult(workspace: try Self.workspace(existing), created: false, revision: nil)
            }
            let revision = try await Self.nextRevision(db)
            try await db.execute("UPDATE environments SET desired_revision = \(revision) WHERE tenant = \(tenant) AND name = \(environment)")
            if existing != nil {
                try await db.execute(
                    """
                    UPDATE workspaces SET spec = \(specJSON), generation = generation + 1, updated_at = \(now)
                    WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)
                    """)
            } else {
                try await db.execute(
                    """
                    INSERT INTO workspaces (tenant, environment, name, generation, spec, created_at, updated_at)
                    VALUES (\(tenant), \(environment), \(name), 1, \(specJSON), \(now), \(now))
                    """)
            }
            try await Self.replaceComponents(db, tenant, environment, name, rows)
            announcements.add(.desiredState(tenant: tenant, environment: environment, revision: revision))
            let row = try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)")!
            return WorkspaceApplyResult(workspace: try Self.workspace(row), created: existing == nil, revision: revision)
        }
    }

    public func workspaces(tenant: String, environment: String) async throws -> [Workspace] {
        try await database.read { db in
            try await Self.requireEnvironment(db, tenant, environment)
            return try await db.rows("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY name")
                .map(Self.workspace)
        }
    }

    public func workspaceNames(tenant: String, environment: String) async throws -> Set<String> {
        try await database.read { db in
            Set(
                try await db.rows("SELECT name FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment)")
                    .map { try $0.get("name", as: String.self) })
        }
    }

    public func workspace(tenant: String, environment: String, name: String) async throws -> Workspace? {
        try await database.read { db in
            try await db.one("SELECT * FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)")
                .map(Self.workspace)
        }
    }

    public func deleteWorkspace(tenant: String, environment: String, name: String, precondition: GenerationPrecondition) async throws -> Int64 {
        let dialect = self.dialect
        return try await writeAnnouncing { db, announcements in
            _ = try await db.rows("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment) \(raw: dialect.forUpdate)")
            if precondition != .any {
                let current = try await db.scalar(
                    """
                    SELECT generation FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name)
                    """, as: Int64.self)
                // A workspace that does not exist is answered as not found below, whatever the precondition.
                if current != nil, let failure = precondition.failure("workspace \"\(name)\"", current: current) {
                    throw StoreError.preconditionFailed(failure)
                }
            }
            let deleted = try await db.count("DELETE FROM workspaces WHERE tenant = \(tenant) AND environment = \(environment) AND name = \(name) RETURNING 1")
            guard deleted > 0 else {
                throw StoreError.notFound("workspace \"\(name)\" not found in \(tenant)/\(environment)")
            }
            let revision = try await Self.nextRevision(db)
            try await db.execute("UPDATE environments SET desired_revision = \(revision) WHERE tenant = \(tenant) AND name = \(environment)")
            announcements.add(.desiredState(tenant: tenant, environment: environment, revision: revision))
            return revision
        }
    }

    // MARK: Helpers

    static func requireTenant(_ db: any SQLConnection, _ tenant: String, lock: String = "") async throws {
        guard try await db.exists("SELECT 1 FROM tenants WHERE name = \(tenant) \(raw: lock)") else {
            throw StoreError.notFound("tenant \"\(tenant)\" not found")
        }
    }

    /// With `lock` (the dialect's `FOR UPDATE`), the environment's row stays locked to the end of the transaction.
    static func requireEnvironment(_ db: any SQLConnection, _ tenant: String, _ environment: String, lock: String = "") async throws {
        try await requireTenant(db, tenant)
        guard try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment) \(raw: lock)") else {
            throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
        }
    }

    /// Refuses when the environment's namespace or registry are not those components were resolved for.
    static func requireSettings(_ db: any SQLConnection, _ tenant: String, _ environment: String, _ settings: EnvironmentSettings) async throws {
        let row = try await db.one("SELECT namespace, registry FROM environments WHERE tenant = \(tenant) AND name = \(environment)")
        guard let row, EnvironmentSettings(namespace: try row.get("namespace"), registry: try row.get("registry", as: String?.self)) == settings else {
            throw StoreError.conflict("the namespace or registry of \(tenant)/\(environment) changed while components were being resolved; try again")
        }
    }

    /// Row values of resolved components, made before the transaction starts.
    static func prepare(_ components: [ResolvedComponent]) throws -> [(ResolvedComponent, String)] {
        try components.map { ($0, try json($0)) }
    }

    static func storedHashes(_ db: any SQLConnection, _ tenant: String, _ environment: String, _ workspace: String) async throws -> [String] {
        try await db.rows(
            """
            SELECT hash FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND workspace = \(workspace) ORDER BY position
            """
        ).map { try $0.get("hash", as: String.self) }
    }

    static func replaceComponents(
        _ db: any SQLConnection, _ tenant: String, _ environment: String, _ workspace: String,
        _ rows: [(ResolvedComponent, String)]
    ) async throws {
        var statements: [SQL] = ["DELETE FROM resolved_components WHERE tenant = \(tenant) AND environment = \(environment) AND workspace = \(workspace)"]
        for (position, (component, json)) in rows.enumerated() {
            statements.append(
                """
                INSERT INTO resolved_components (tenant, environment, workspace, component, position, hash, object_count, resolved)
                VALUES (\(tenant), \(environment), \(workspace), \(component.name), \(position), \(component.hash), \(component.manifests.count), \(json))
                """)
        }
        try await db.executeAll(statements)
    }

    /// Revisions come from one counter for the whole store (on PostgreSQL its row lock orders concurrent
    /// writers), so an environment deleted and created again never hands its agent a revision it has seen.
    static func nextRevision(_ db: any SQLConnection) async throws -> Int64 {
        guard let revision = try await db.scalar("UPDATE revision_counter SET value = value + 1 WHERE id = 1 RETURNING value", as: Int64.self) else {
            throw SQLError("the revision counter is missing")
        }
        return revision
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try StrictJSON.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StrictJSON.decoder().decode(type, from: Data(text.utf8))
    }
}
