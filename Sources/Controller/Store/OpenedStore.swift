import ControllerModel
import Foundation
import Logging
import PostgresDriver
import SQLStorage
import SQLiteDriver
import ServiceLifecycle

/// The store `--database` names: a `postgres://` URL selects PostgreSQL (several replicas may share
/// it), anything else is the path of an SQLite file. Either way it is the one `SQLStore`.
public struct OpenedStore: Sendable {
    public let store: SQLStore
    /// What logs may say about the database (a PostgreSQL URL with its password masked).
    public let description: String
    /// Services to run first in the service group (and so stop last): PostgreSQL's connection pool,
    /// which migrates the schema once it runs.
    public let services: [any Service]

    public static func open(
        _ database: String, logger: Logger, replicaID: String = UUID().uuidString,
        leaseDuration: TimeInterval = 30
    ) throws -> OpenedStore {
        if PostgresURL.isPostgres(database) {
            let url = try PostgresURL(database)
            let postgres = try PostgresDatabase(url: url, logger: logger)
            return OpenedStore(
                store: SQLStore(database: postgres, logger: logger, replicaID: replicaID, leaseDuration: leaseDuration),
                description: url.description, services: [postgres])
        }
        return OpenedStore(
            store: SQLStore(
                database: try SQLiteDatabase(path: database), logger: logger, replicaID: replicaID,
                leaseDuration: leaseDuration),
            description: database, services: [])
    }

    /// A description of `database` fit for logs, without opening it.
    public static func describe(_ database: String) -> String {
        guard PostgresURL.isPostgres(database) else { return database }
        return (try? PostgresURL(database))?.description ?? "postgres://(unparsable URL)"
    }

    public func close() async { await store.close() }
}
