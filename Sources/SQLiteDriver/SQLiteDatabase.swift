import Foundation
import GRDB
import SQLStorage
import Synchronization

/// The embedded database: one SQLite file in WAL mode through GRDB. Readers never wait for the writer;
/// writes take turns (SQLite has one writer), each a transaction on GRDB's writer connection.
public final class SQLiteDatabase: SQLDatabase {
    let pool: DatabasePool
    /// One write transaction at a time: its statements are separate trips to the writer connection,
    /// and nothing else may run on it in between.
    private let writerLock = AsyncLock()
    /// Concurrent writes share a transaction (and its fsync); see `GroupCommit`.
    private let groupCommit: GroupCommit

    public let dialect = SQLDialect(
        name: "sqlite", forUpdate: "", forShare: "", forUpdateSkipLocked: "",
        least: { "MIN(\($0), \($1))" }, greatest: { "MAX(\($0), \($1))" },
        transactionLock: { _ in nil }, announce: { _, _ in nil })

    public var remoteChanges: (any RemoteChangeSource)? { nil }

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        // Write transactions span several trips to the writer connection (see `write`).
        configuration.allowsUnsafeTransactions = true
        let pool = try DatabasePool(path: path, configuration: configuration)
        self.pool = pool
        groupCommit = GroupCommit(transaction: Self.transaction(pool), writerLock: writerLock)
        try SQLiteMigrations.migrator.migrate(pool)
        // One process uses an SQLite file: whatever was claimed from the outbox before is this process's
        // predecessor's, and nobody is sending it any more.
        try pool.write { db in try db.execute(sql: "UPDATE notifications SET claimed_by = NULL, lease_until = NULL WHERE claimed_by IS NOT NULL") }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await body(Connection(access: .reader(pool)))
    }

    /// On the writer connection while no write runs: nothing can change between the statements, and no
    /// connection has to be opened for it (a `DatabaseSnapshot` would open one each time).
    public func snapshot<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await writerLock.withLock { try await body(Connection(access: .writer(pool))) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let result = ResultBox<T>()
        let connection = Connection(access: .writer(pool))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            groupCommit.submit(
                GroupCommit.Job(
                    run: { result.set(try await body(connection)) },
                    finish: { error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                    }))
        }
        return try result.take()
    }

    static func transaction(_ pool: DatabasePool) -> GroupCommit.Transaction {
        @Sendable func run(_ sql: String) async throws { try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) } }
        return GroupCommit.Transaction(
            begin: { try await run("BEGIN IMMEDIATE") }, savepoint: { try await run("SAVEPOINT job") },
            release: { try await run("RELEASE SAVEPOINT job") }, rollbackToSavepoint: { try await run("ROLLBACK TO SAVEPOINT job") },
            commit: { try await run("COMMIT") }, rollback: { _ = try? await run("ROLLBACK") })
    }

    /// Write transactions committed and the writes they carried: writes per transaction is what
    /// group commit saves.
    public var committed: (transactions: Int, writes: Int) { groupCommit.committed }

    public func close() async {
        try? pool.close()
    }

    /// Where a connection's statements run.
    enum Access: Sendable {
        case reader(DatabasePool)
        case writer(DatabasePool)
    }

    struct Connection: SQLConnection {
        let access: Access

        private func run<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
            switch access {
            case .reader(let pool): try await pool.read(work)
            case .writer(let pool): try await pool.writeWithoutTransaction(work)
            }
        }

        func rows(_ statement: SQLStorage.SQL) async throws -> [SQLRow] {
            let (text, arguments) = Self.render(statement)
            return try await run { db in try Row.fetchAll(db.cachedStatement(sql: text), arguments: arguments).map(Self.row) }
        }

        func execute(_ statement: SQLStorage.SQL) async throws {
            let (text, arguments) = Self.render(statement)
            try await run { db in try db.cachedStatement(sql: text).execute(arguments: arguments) }
        }

        func executeAll(_ statements: [SQLStorage.SQL]) async throws {
            guard !statements.isEmpty else { return }
            let rendered = statements.map(Self.render)
            try await run { db in
                for (text, arguments) in rendered { try db.cachedStatement(sql: text).execute(arguments: arguments) }
            }
        }

        static func render(_ statement: SQLStorage.SQL) -> (String, StatementArguments) {
            let (text, values) = statement.rendered { _ in "?" }
            return (text, StatementArguments(values.map(databaseValue)))
        }

        static func databaseValue(_ value: SQLValue) -> DatabaseValue {
            switch value {
            case .null: .null
            case .integer(let value): value.databaseValue
            case .real(let value): value.databaseValue
            case .text(let value): value.databaseValue
            case .bool(let value): value.databaseValue
            }
        }

        static func row(_ row: Row) -> SQLRow {
            var values: [String: SQLValue] = [:]
            for (column, value) in row {
                values[column] =
                    switch value.storage {
                    case .null: .null
                    case .int64(let value): .integer(value)
                    case .double(let value): .real(value)
                    case .string(let value): .text(value)
                    case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                    }
            }
            return SQLRow(values)
        }
    }
}

/// Carries a write's result from the batch that ran it to the caller waiting for the commit.
private final class ResultBox<T: Sendable>: Sendable {
    private let value = Mutex<T?>(nil)
    func set(_ result: T) { value.withLock { $0 = result } }
    func take() throws -> T {
        guard let result = value.withLock({ $0 }) else { throw GroupCommitError.noResult }
        return result
    }
}

enum GroupCommitError: Error { case noResult }
