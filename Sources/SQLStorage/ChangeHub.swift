import ControllerModel
import Foundation
import Synchronization

/// Hands every change this process commits to everyone following the store, at once and in order
/// of commit. (Changes other replicas commit arrive through the database's own channel and are fed
/// in here too; see `SQLStore.followChanges`.)
final class ChangeHub: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<StoreChange>.Continuation]>([:])

    func publish(_ changes: [StoreChange]) {
        guard !changes.isEmpty else { return }
        for continuation in subscribers.withLock({ Array($0.values) }) {
            for change in changes { continuation.yield(change) }
        }
    }

    func subscribe() -> AsyncStream<StoreChange> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<StoreChange>.makeStream()
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }
}
