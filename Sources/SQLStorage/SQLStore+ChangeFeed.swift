import ControllerModel
import Foundation

/// Following the store: what this process commits arrives through the hub at once; what other
/// replicas commit arrives through the database (PostgreSQL's `LISTEN`), without what this
/// process announced itself.
extension SQLStore {
    public func followChanges(listening: @escaping @Sendable () -> Void, _ handle: @escaping @Sendable (StoreChange) async -> Void) async throws {
        let local = hub.subscribe()
        let (remote, origin) = (database.remoteChanges, replicaID)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await change in local { await handle(change) }
            }
            if let remote {
                group.addTask {
                    try await remote.follow(channels: [ChangeWire.desiredChannel, ChangeWire.revokedChannel], listening: listening) { channel, payload in
                        guard let (sender, change) = ChangeWire.change(channel: channel, payload: payload), sender != origin else { return }
                        await handle(change)
                    }
                    throw SQLError("the database's change notifications ended")
                }
            } else {
                listening()
            }
            // Ends (throws) when the remote feed is lost; the caller subscribes again.
            try await group.next()
            group.cancelAll()
        }
    }
}
