import ControllerModel
import Foundation
import Logging
import PostgresNIO

/// Replicas tell each other about changes with PostgreSQL's `NOTIFY`, sent inside the transaction
/// that makes the change (so it is delivered exactly when, and only if, the change commits):
/// `qbeast_desired` carries `<tenant>/<environment>:<revision>`, `qbeast_revoked` `<tenant>/<environment>`.
extension PostgresStore: StoreChangeFeed {
    static let desiredChannel = "qbeast_desired"
    static let revokedChannel = "qbeast_revoked"

    static func announce(_ db: PostgresConnection, _ tenant: String, _ environment: String, revision: Int64, _ logger: Logger) async throws {
        try await db.run("SELECT pg_notify(\(desiredChannel), \("\(tenant)/\(environment):\(revision)"))", logger)
    }

    static func announceRevocation(_ db: PostgresConnection, _ tenant: String, _ environment: String, _ logger: Logger) async throws {
        try await db.run("SELECT pg_notify(\(revokedChannel), \("\(tenant)/\(environment)"))", logger)
    }

    /// Parses a notification payload; nil for one this version does not understand.
    static func change(channel: String, payload: String) -> StoreChange? {
        switch channel {
        case desiredChannel:
            guard let colon = payload.lastIndex(of: ":"), let revision = Int64(payload[payload.index(after: colon)...]),
                  let (tenant, environment) = key(payload[..<colon]) else { return nil }
            return .desiredState(tenant: tenant, environment: environment, revision: revision)
        case revokedChannel:
            return key(payload[...]).map { .revoked(tenant: $0.0, environment: $0.1) }
        default:
            return nil
        }
    }

    private static func key(_ text: Substring) -> (String, String)? {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        return (String(text[..<slash]), String(text[text.index(after: slash)...]))
    }

    /// Holds one pooled connection with `LISTEN` on both channels for as long as it runs.
    public func followChanges(listening: @escaping @Sendable () -> Void, _ handle: @escaping @Sendable (StoreChange) async -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.desiredChannel) { desired in
                try await connection.listen(on: Self.revokedChannel) { revoked in
                    listening()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (channel, sequence) in [(Self.desiredChannel, desired), (Self.revokedChannel, revoked)] {
                            group.addTask {
                                for try await notification in sequence {
                                    if let change = Self.change(channel: channel, payload: notification.payload) { await handle(change) }
                                }
                                throw PostgresStoreError("the notification connection closed")
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
        }
    }
}
