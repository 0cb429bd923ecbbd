import Foundation
import SplitPlaneProtocol
import Synchronization

/// Lets a background loop sleep until its next deadline or until someone has new work for it,
/// whichever comes first. Signals sent while the loop is busy are not lost: the next wait returns at once.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// How long a loop sleeps when its next deadline is `seconds` away (nil: none known): at least a
    /// millisecond, so a deadline that work did not move cannot spin the loop; at most `idlePoll`.
    public static func sleep(untilDueIn seconds: Double?, idlePoll: Duration) -> Duration {
        let limit = idlePoll.timeInterval
        guard let seconds, seconds.isFinite, seconds < limit else { return idlePoll }
        return max(.milliseconds(Int64((seconds * 1000).rounded(.up))), .milliseconds(1))
    }

    /// Returns after `timeout` on `clock`, on a signal, or on cancellation.
    public func wait(upTo timeout: Duration, clock: any TimeSource) async {
        if state.withLock({ state in
            defer { state.pending = false }; return state.pending
        }) {
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }; return state.waiter
            }
            waiter?.resume()
        }
    }
}
