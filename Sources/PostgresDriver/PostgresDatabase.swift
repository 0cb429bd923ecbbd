import Foundation
import Logging
import PostgresNIO
import SQLStorage
import ServiceLifecycle
import Synchronization

/// The database several controller replicas share: PostgreSQL through a PostgresNIO connection pool.
/// Write transactions lock the rows they decide on (`FOR UPDATE`), and are run again when the server
/// aborts one as a deadlock victim or a serialization failure. Replicas tell each other about changes
/// with `NOTIFY`/`LISTEN`.
public final class PostgresDatabase: SQLDatabase, Service {
    public let client: PostgresClient
    let logger: Logger
    let startupTimeout: Duration
    /// Opens once the schema is migrated; every statement waits for it.
    private let migrated = ReadyGate()
    /// `run()` started by `start()`, for use outside a service group (tools, tests).
    private let runner = Mutex<Task<Void, any Error>?>(nil)

    public let dialect = SQLDialect(
        name: "postgresql", forUpdate: "FOR UPDATE", forShare: "FOR SHARE", forUpdateSkipLocked: "FOR UPDATE SKIP LOCKED",
        least: { "LEAST(\($0), \($1))" }, greatest: { "GREATEST(\($0), \($1))" },
        transactionLock: { key in "SELECT pg_advisory_xact_lock(\(key))" },
        announce: { channel, payload in "SELECT pg_notify(\(channel), \(payload))" })

    public var remoteChanges: (any RemoteChangeSource)? { PostgresChangeSource(client: client, logger: logger, migrated: migrated) }

    /// A pool on `url`. It serves once `run()` runs — the first service of the controller's service
    /// group, so it is the last to stop — which also migrates the schema; statements wait until then.
    public init(url: PostgresURL, logger: Logger, maximumConnections: Int = 20, startupTimeout: Duration = .seconds(30)) throws {
        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.startupTimeout = startupTimeout
    }

    /// Runs the pool until graceful shutdown, and migrates the schema once it runs. Throws when the
    /// database does not answer within `startupTimeout`, or a migration fails.
    public func run() async throws {
        let (client, logger, migrated, timeout) = (self.client, self.logger, self.migrated, startupTimeout)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await cancelWhenGracefulShutdown { await client.run() } }
            do {
                let applied = try await Self.migrate(client, logger: logger, timeout: timeout)
                if !applied.isEmpty { logger.info("database migrated", metadata: ["applied": "\(applied)"]) }
                migrated.open()
            } catch {
                let failure = SQLError("cannot prepare the PostgreSQL database: \(String(reflecting: error))")
                migrated.fail(failure)
                throw failure
            }
        }
    }

    static func migrate(_ client: PostgresClient, logger: Logger, timeout: Duration) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String]?.self) { group in
            group.addTask { try await PostgresMigrations.migrate(client, logger: logger) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let applied = try await group.next()! else { throw SQLError("no answer within \(timeout)") }
            return applied
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await migrated.wait()
        return try await client.withConnection { connection in try await body(Connection(connection: connection, logger: logger)) }
    }

    public func snapshot<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await migrated.wait()
        return try await client.transaction(logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await body(Connection(connection: connection, logger: logger))
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await migrated.wait()
        return try await client.transaction(logger) { connection in try await body(Connection(connection: connection, logger: logger)) }
    }

    /// Runs `run()` in a task of its own until `close()`, and waits until the schema is migrated: for
    /// use outside a service group (tools, tests).
    public func start() async throws {
        let task = Task { try await run() }
        runner.withLock { $0 = task }
        try await migrated.wait()
    }

    /// Ends what `start()` started; in a service group the pool ends with the group's graceful shutdown.
    public func close() async {
        guard let task = runner.withLock({ $0.take() }) else { return }
        task.cancel()
        _ = await task.result
    }

    struct Connection: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ statement: SQL) async throws -> [SQLRow] {
            try await connection.query(Self.query(statement), logger: logger).collect().map(Self.row)
        }

        func execute(_ statement: SQL) async throws {
            _ = try await connection.query(Self.query(statement), logger: logger).collect()
        }

        func executeAll(_ statements: [SQL]) async throws {
            for statement in statements { try await execute(statement) }
        }

        static func query(_ statement: SQL) -> PostgresQuery {
            let (text, values) = statement.rendered { "$\($0)" }
            var binds = PostgresBindings(capacity: values.count)
            for value in values {
                switch value {
                case .null: binds.appendNull()
                case .integer(let value): binds.append(value)
                case .real(let value): binds.append(value)
                case .text(let value): binds.append(value)
                case .bool(let value): binds.append(value)
                }
            }
            return PostgresQuery(unsafeSQL: text, binds: binds)
        }

        static func row(_ row: PostgresRow) throws -> SQLRow {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try value(cell)
            }
            return SQLRow(values)
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
            case .bool: return .bool(try cell.decode(Bool.self))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}

/// Changes other replicas announce, through `LISTEN` on one pooled connection held for as long as it runs.
struct PostgresChangeSource: RemoteChangeSource {
    let client: PostgresClient
    let logger: Logger

    let migrated: ReadyGate

    func follow(
        channels: [String], listening: @escaping @Sendable () -> Void,
        _ handle: @escaping @Sendable (String, String) async -> Void
    ) async throws {
        try await migrated.wait()
        try await client.withConnection { connection in
            try await Self.listen(connection, channels[...], sequences: [], listening: listening, handle)
        }
    }

    /// Nests one `listen` per channel (each holds its subscription while its closure runs), then reads them all.
    private static func listen(
        _ connection: PostgresConnection, _ channels: ArraySlice<String>,
        sequences: [(String, PostgresNotificationSequence)], listening: @escaping @Sendable () -> Void,
        _ handle: @escaping @Sendable (String, String) async -> Void
    ) async throws {
        guard let channel = channels.first else {
            listening()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (channel, sequence) in sequences {
                    group.addTask {
                        for try await notification in sequence { await handle(channel, notification.payload) }
                        throw SQLError("the notification connection closed")
                    }
                }
                try await group.next()
                group.cancelAll()
            }
            return
        }
        try await connection.listen(on: channel) { sequence in
            try await listen(connection, channels.dropFirst(), sequences: sequences + [(channel, sequence)], listening: listening, handle)
        }
    }
}
