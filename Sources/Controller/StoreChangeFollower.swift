import ControllerModel
import Logging
import ServiceLifecycle
import ServiceSupport

/// Feeds the changes the store commits (this process's, and other replicas' on PostgreSQL) into the
/// local notifier. Subscribes again (after a second) when the connection is lost, not ready meanwhile,
/// and then wakes every held long poll, since changes made during the gap were not heard.
struct StoreChangeFollower: Service {
    let feed: any StoreChangeFeed
    let notifier: DesiredStateNotifier
    /// Told of every change before the long polls are, so a woken poll never reads a stale copy.
    let cache: GatewayCache
    let heartbeats: HeartbeatCoalescer
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        let (feed, notifier, cache, heartbeats, readiness, logger) = (feed, notifier, cache, heartbeats, readiness, logger)
        await cancelWhenGracefulShutdown {
            var resubscribing = false
            while !Task.isCancelled {
                let missedSome = resubscribing
                resubscribing = true
                do {
                    try await feed.followChanges(listening: {
                        cache.setFollowing(true)
                        readiness.set("store-changes", problem: nil)
                        // Changes committed while the feed was down were not heard: every held poll looks again.
                        if missedSome { Task { await notifier.wakeAll() } }
                    }) { change in
                        cache.changed(change)
                        heartbeats.changed(change)
                        switch change {
                        case .desiredState(let tenant, let environment, let revision):
                            await notifier.publish(.init(tenant: tenant, environment: environment), revision: revision)
                        case .revoked(let tenant, let environment):
                            await notifier.interrupt(.init(tenant: tenant, environment: environment))
                        }
                    }
                } catch {
                    cache.setFollowing(false)
                    if Task.isCancelled { break }
                    readiness.set("store-changes", problem: "not listening for other replicas' changes: \(error)")
                    logger.warning("lost the store's change notifications; subscribing again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
