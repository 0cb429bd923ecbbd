/// A database the store runs on: how statements are grouped (a transaction, a consistent read, a
/// single statement) and the SQL that differs between databases. Drivers implement it; the store is
/// written once against it.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Statements that need no transaction: each sees committed data as of when it runs.
    func read<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T
    /// Statements that must see one committed state together (PostgreSQL: a repeatable-read,
    /// read-only transaction; SQLite: a snapshot).
    func snapshot<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T
    /// A transaction: everything `body` does commits together, or (on any error) nothing does.
    /// PostgreSQL runs it again when the server aborts it as a deadlock victim or a serialization
    /// failure, so `body` must be safe to repeat.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T
    /// Changes committed by other processes sharing the database (nil: there are none, as for SQLite).
    var remoteChanges: (any RemoteChangeSource)? { get }
    func close() async
}

/// The SQL that is not the same in both databases.
public struct SQLDialect: Sendable {
    public var name: String
    /// Locks the rows a `SELECT` reads until the transaction ends (`FOR UPDATE`); empty where the
    /// database has one writer at a time anyway.
    public var forUpdate: String
    /// `FOR SHARE`: the rows may not change or go until the transaction ends, others may still read.
    public var forShare: String
    /// `FOR UPDATE SKIP LOCKED`: rows another transaction holds are passed over.
    public var forUpdateSkipLocked: String
    /// The smaller of two values (`MIN(a, b)` in SQLite, `LEAST(a, b)` in PostgreSQL).
    public var least: @Sendable (SQL, SQL) -> SQL
    public var greatest: @Sendable (SQL, SQL) -> SQL
    /// A lock held to the end of the transaction, keyed by a number (PostgreSQL's advisory locks).
    public var transactionLock: @Sendable (Int64) -> SQL?
    /// The statement that tells other processes about a committed change, sent inside its transaction.
    public var announce: @Sendable (_ channel: String, _ payload: String) -> SQL?

    public init(
        name: String, forUpdate: String, forShare: String, forUpdateSkipLocked: String, least: @escaping @Sendable (SQL, SQL) -> SQL,
        greatest: @escaping @Sendable (SQL, SQL) -> SQL, transactionLock: @escaping @Sendable (Int64) -> SQL?,
        announce: @escaping @Sendable (String, String) -> SQL?
    ) {
        self.name = name
        self.forUpdate = forUpdate
        self.forShare = forShare
        self.forUpdateSkipLocked = forUpdateSkipLocked
        self.least = least
        self.greatest = greatest
        self.transactionLock = transactionLock
        self.announce = announce
    }
}

/// Where changes other replicas commit arrive (PostgreSQL's `LISTEN`).
public protocol RemoteChangeSource: Sendable {
    /// Delivers each `(channel, payload)` announced from now on until cancelled; calls `listening`
    /// once subscribed. Throws when the connection is lost.
    func follow(
        channels: [String], listening: @escaping @Sendable () -> Void,
        _ handle: @escaping @Sendable (_ channel: String, _ payload: String) async -> Void) async throws
}
