import ControllerModel
import Foundation
import Logging

/// The store `--database` names: a `postgres://` URL selects PostgreSQL (several replicas may share
/// it), anything else is the path of an SQLite file.
public struct OpenedStore: Sendable {
    public let store: any ControllerStore
    /// What logs may say about the database (a PostgreSQL URL with its password masked).
    public let description: String
    private let closeStore: @Sendable () async -> Void

    public static func open(_ database: String, logger: Logger) async throws -> OpenedStore {
        if PostgresURL.isPostgres(database) {
            let url = try PostgresURL(database)
            let store = try await PostgresStore.connect(url, logger: logger)
            return OpenedStore(store: store, description: url.description, closeStore: { await store.close() })
        }
        return OpenedStore(store: try SQLiteStore(path: database), description: database, closeStore: {})
    }

    /// A description of `database` fit for logs, without opening it.
    public static func describe(_ database: String) -> String {
        guard PostgresURL.isPostgres(database) else { return database }
        return (try? PostgresURL(database))?.description ?? "postgres://(unparsable URL)"
    }

    public func close() async { await closeStore() }
}
