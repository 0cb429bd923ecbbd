/// Statements on one connection, inside whatever the database opened for them (a transaction, a
/// snapshot, or nothing). Rows come back whole; counts of changed rows come from `RETURNING 1`,
/// which both databases support.
public protocol SQLConnection: Sendable {
    func rows(_ statement: SQL) async throws -> [SQLRow]
    func execute(_ statement: SQL) async throws
    /// Runs every statement in order, in one trip where the database allows it (SQLite: one hop onto
    /// its writer instead of one per statement).
    func executeAll(_ statements: [SQL]) async throws
}

extension SQLConnection {
    public func one(_ statement: SQL) async throws -> SQLRow? {
        try await rows(statement).first
    }

    public func exists(_ statement: SQL) async throws -> Bool {
        try await one(statement) != nil
    }

    /// The single column of the single row, or nil without a row (or with NULL).
    public func scalar<T: SQLDecodable>(_ statement: SQL, as type: T.Type = T.self) async throws -> T? {
        guard let row = try await one(statement), let value = row.values.values.first else { return nil }
        return T(sqlValue: value)
    }

    /// How many rows a statement ending in `RETURNING 1` touched.
    public func count(_ statement: SQL) async throws -> Int {
        try await rows(statement).count
    }
}
