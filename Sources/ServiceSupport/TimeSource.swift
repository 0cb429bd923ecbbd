import Foundation
import SplitPlaneProtocol
import Synchronization

/// The clock every time-based decision goes through, so tests can move time instead of sleeping.
public protocol TimeSource: Sendable {
    func now() -> Date
    func sleep(for duration: Duration) async throws
}

public struct SystemTimeSource: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// A clock that only moves when a test advances it. Sleepers wake when the time they wait for is reached.
public final class ManualTimeSource: TimeSource {
    private struct State {
        var now: Date
        var sleepers: [UUID: (deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = [:]
    }

    private let state: Mutex<State>

    public init(now: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(now: now))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// Number of tasks currently sleeping on this clock; lets a test wait until a loop is idle.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func advance(by duration: Duration) {
        let seconds = duration.timeInterval
        let due: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let ready = state.sleepers.filter { $0.value.deadline <= now }
            for id in ready.keys { state.sleepers[id] = nil }
            return ready.values.map(\.continuation)
        }
        due.forEach { $0.resume() }
    }

    public func sleep(for duration: Duration) async throws {
        let id = UUID()
        let seconds = duration.timeInterval
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if seconds <= 0 || Task.isCancelled { return true }
                    state.sleepers[id] = (state.now.addingTimeInterval(seconds), continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
