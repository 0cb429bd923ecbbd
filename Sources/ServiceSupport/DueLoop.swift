import Foundation
import Logging
import ServiceLifecycle

/// The shape of a background worker that acts when something falls due: do the due work, then sleep
/// until the next deadline, a wake-up, or `idlePoll` at most — until graceful shutdown. A failing
/// round pauses a full `idlePoll`, so a broken store cannot turn the loop into a spin.
public enum DueLoop {
    public static func run(
        wake: WakeSignal, clock: any TimeSource, idlePoll: Duration, logger: Logger, what: String,
        work: () async throws -> Void, nextDue: () async -> Date?
    ) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var pause: Duration?
            do {
                try await work()
            } catch {
                pause = idlePoll
                logger.error("\(what) failed", metadata: ["error": "\(error)"])
            }
            let next = await nextDue().map { max(0, $0.timeIntervalSince(clock.now())) }
            let sleep = pause ?? WakeSignal.sleep(untilDueIn: next, idlePoll: idlePoll)
            await cancelWhenGracefulShutdown { await wake.wait(upTo: sleep, clock: clock) }
        }
    }
}
