import ControllerModel
import Logging
import ServiceLifecycle
import ServiceSupport

/// Writes the agent-last-seen times of unchanged heartbeats (`HeartbeatCoalescer`) every `interval`,
/// all environments in one transaction, and once more on shutdown.
struct HeartbeatFlusher: Service {
    let coalescer: HeartbeatCoalescer
    let store: any FleetStore
    let clock: any TimeSource
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await clock.sleep(for: interval)
                await flush()
            }
        }
        await flush()
    }

    func flush() async {
        let sightings = coalescer.takeSightings()
        guard !sightings.isEmpty else { return }
        do {
            try await store.recordLastSeen(sightings)
        } catch {
            coalescer.restore(sightings)
            logger.warning("cannot write agents' last-seen times; trying again", metadata: ["agents": "\(sightings.count)", "error": "\(error)"])
        }
    }
}
