import ControllerModel
import Foundation
import Logging
import PostgresNIO

/// One result row, read by column name.
struct PGRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func get<T: PostgresDecodable>(_ column: String, _: T.Type = T.self) throws -> T {
        try row[column].decode(T.self)
    }

    /// Seconds since 1970 (the stored form of every time, as in the SQLite store).
    func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: try get(column, Double.self)) }
    func optionalDate(_ column: String) throws -> Date? { try get(column, Double?.self).map(Date.init(timeIntervalSince1970:)) }
}

extension PostgresConnection {
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PGRow] {
        try await self.query(query, logger: logger).collect().map(PGRow.init)
    }

    func one(_ query: PostgresQuery, _ logger: Logger) async throws -> PGRow? {
        try await rows(query, logger).first
    }

    /// Runs a statement; `RETURNING 1` makes the count the number of rows it touched.
    @discardableResult
    func run(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        try await self.query(query, logger: logger).collect().count
    }

    func exists(_ query: PostgresQuery, _ logger: Logger) async throws -> Bool {
        try await one(query, logger) != nil
    }
}

extension PostgresClient {
    /// `BEGIN` … `COMMIT` on one pooled connection; rolls back and rethrows the closure's own error
    /// (PostgresNIO's `withTransaction` would wrap it, and `StoreError`s must reach the routes as they
    /// are). A transaction PostgreSQL aborted as a deadlock victim or for a serialization failure
    /// (replicas writing the same rows in different orders) is run again (up to five attempts, after a short random pause).
    func transaction<Result: Sendable>(_ logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        let result = try await body(connection)
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 5 && ["40001", "40P01"].contains(error.serverInfo?[.sqlState] ?? "") {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
                logger.debug("transaction retried", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
            }
        }
    }
}
