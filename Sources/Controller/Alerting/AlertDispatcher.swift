import AlertRouting
import ControllerModel
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol

/// Flushes aggregation groups when their timers are due: mutes (inhibition, silences), decides with
/// the notification log and acknowledgement, and records the notifications to send — all in the
/// group's own transaction. Sending is `NotificationDelivery`'s job.
public final class AlertDispatcher: Service, Sendable {
    public let configSource: RoutingConfigSource
    let store: any AlertingStore
    let clock: any TimeSource
    let logger: Logger
    let wake = WakeSignal()
    /// Longest the loop sleeps without a known deadline, so groups created by another replica are seen.
    let idlePoll: Duration
    /// Called after a flush round that may have recorded notifications (wakes the delivery loop).
    let onFlushed: @Sendable () -> Void

    public init(
        store: any AlertingStore, configSource: RoutingConfigSource, clock: any TimeSource, logger: Logger,
        idlePoll: Duration = .seconds(1), onFlushed: @escaping @Sendable () -> Void = {}
    ) {
        self.onFlushed = onFlushed
        self.store = store
        self.configSource = configSource
        self.clock = clock
        self.logger = logger
        self.idlePoll = idlePoll
    }

    /// How the store files an arriving alert into groups, under the configuration in force.
    public var assign: AlertAssigner {
        { [configSource] alert in configSource.config.assignments(for: alert) }
    }

    /// New alerts arrived: a group may be due at once (`group_wait: 0`).
    public func alertsArrived() { wake.signal() }

    /// Re-reads the routing file and re-files every alert under it; the old configuration stays on error.
    public func reload() async throws -> RoutingConfigSource.Loaded {
        let loaded = try configSource.reload(at: clock.now())
        try await refileAlerts()
        logger.info("routing configuration reloaded", metadata: ["path": "\(loaded.path ?? "")"])
        wake.signal()
        return loaded
    }

    /// Files every stored alert under the routes in force (at start-up: the file may have changed while stopped).
    public func refileAlerts() async throws {
        try await store.rebuildAlertGroups(at: clock.now(), assign: assign)
    }

    public func run() async throws {
        try await refileAlerts()
        await DueLoop.run(
            wake: wake, clock: clock, idlePoll: idlePoll, logger: logger, what: "flushing alert groups",
            work: { try await flushDue() }, nextDue: { try? await store.nextAlertGroupFlush() })
    }

    /// Flushes every group whose timer has run out; returns how many.
    @discardableResult
    public func flushDue() async throws -> Int {
        let now = clock.now()
        let due = try await store.dueAlertGroups(at: now)
        guard !due.isEmpty else { return 0 }
        let config = configSource.config
        let mutes = try await AlertMutes.load(store: store, config: config, at: now)
        try await store.flushAlertGroups(ids: due, at: now) { snapshot in
            Self.plan(snapshot, config: config, mutes: mutes, at: now)
        }
        Counter(label: "qbeast_controller_alert_group_flushes_total").increment(by: Int64(due.count))
        onFlushed()
        return due.count
    }

    static func plan(_ group: AlertGroupSnapshot, config: RoutingConfig, mutes: AlertMutes, at now: Date) -> AlertGroupFlush {
        guard let route = config.route(at: group.route), route.receiver == group.receiver else {
            // The routes changed under the group (a reload is re-filing alerts): let it go quietly.
            return AlertGroupFlush(nextFlushAt: now, notified: nil, acknowledgement: nil, notifications: [], removeAlerts: group.alerts)
        }
        let resolvedAlerts = group.alerts.filter { !$0.isFiring(at: now) }
        let audible = group.alerts.filter { !mutes.isMuted($0) }
        let firing = audible.filter { $0.isFiring(at: now) }
        let resolved = audible.filter { !$0.isFiring(at: now) }
        let policy = NotificationPolicy(sendResolved: route.sendResolved, repeatInterval: route.repeatInterval, ackTimeout: route.ackTimeout)
        var flush = AlertGroupFlush(
            nextFlushAt: now.addingTimeInterval(route.groupInterval.timeInterval), notified: nil,
            acknowledgement: group.acknowledgement, notifications: [], removeAlerts: resolvedAlerts)
        guard case .notify(let reason, let rearm) = policy.decide(firing: Set(firing.map(\.key)), resolved: Set(resolved.map(\.key)), group: group, at: now)
        else {
            return flush
        }
        flush.notified = (now, Set(firing.map(\.key)), Set(resolved.map(\.key)))
        if rearm { flush.acknowledgement = nil }
        let content = NotificationContent(
            groupID: group.id, groupKey: NotificationContent.groupKey(route: route.path, groupLabels: group.groupLabels), route: route.path,
            receiver: route.receiver, groupLabels: group.groupLabels, firing: firing, resolved: route.sendResolved ? resolved : [],
            reason: reason, acknowledgement: group.acknowledgement, repeatIntervalSeconds: route.repeatInterval?.timeInterval,
            groupIntervalSeconds: route.groupInterval.timeInterval, createdAt: now)
        if !content.alerts.isEmpty {
            flush.notifications = (config.receiver(named: route.receiver)?.integrations ?? []).map {
                AlertGroupFlush.NewNotification(integration: $0.id, content: content)
            }
        }
        return flush
    }
}
