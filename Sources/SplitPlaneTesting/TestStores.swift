import Foundation
import Logging
import PostgresDriver
import SQLStorage
import SQLiteDriver

extension SQLStore {
    /// The store on an SQLite file, as the controller opens it.
    public static func sqlite(path: String, replicaID: String = UUID().uuidString) throws -> SQLStore {
        SQLStore(database: try SQLiteDatabase(path: path), logger: Logger(label: "test-store"), replicaID: replicaID)
    }

    /// The store on a PostgreSQL database with its pool running (the controller runs the pool as a
    /// service; a test's store owns it, and `close()` stops it). Returns once the schema is migrated.
    public static func postgres(
        _ url: PostgresURL, logger: Logger, replicaID: String = UUID().uuidString, leaseDuration: TimeInterval = 30,
        maximumConnections: Int = 20
    ) async throws -> SQLStore {
        let database = try PostgresDatabase(url: url, logger: logger, maximumConnections: maximumConnections)
        try await database.start()
        return SQLStore(database: database, logger: logger, replicaID: replicaID, leaseDuration: leaseDuration)
    }
}
