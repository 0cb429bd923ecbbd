import Foundation

/// A change another replica committed to the shared store that this replica must act on.
public enum StoreChange: Sendable, Equatable {
    /// The environment's desired state moved to `revision`: wake the long polls behind it.
    case desiredState(tenant: String, environment: String, revision: Int64)
    /// Certificates of the environment were revoked: every held long poll re-checks its caller.
    case revoked(tenant: String, environment: String)
}

/// A store several replicas share (PostgreSQL) tells each of them what the others committed.
/// The in-process `DesiredStateNotifier` is fed from it, so a workspace changed through one replica
/// wakes agents long-polling on any other.
public protocol StoreChangeFeed: Sendable {
    /// Delivers changes committed from now on until the task is cancelled; calls `listening` once the
    /// subscription is in place. Throws when the connection is lost (the caller subscribes again).
    func followChanges(listening: @escaping @Sendable () -> Void, _ handle: @escaping @Sendable (StoreChange) async -> Void) async throws
}
