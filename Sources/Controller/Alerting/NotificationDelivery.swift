import AlertRouting
import AsyncHTTPClient
import ControllerModel
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol
import Synchronization

/// Sends recorded notifications: retries with exponential backoff, honours `Retry-After` on 429,
/// spaces Slack messages to one channel at least a second apart, and records every outcome. Each
/// attempt is written down before its request goes out, so whoever takes over an attempt whose
/// answer was never recorded (after a crash or a timeout) knows the receiver may have it: a Slack
/// app's channel is asked, other receivers get the same `Idempotency-Key` again.
public final class NotificationDelivery: Service, Sendable {
    let store: any AlertingStore
    let configSource: RoutingConfigSource
    let clock: any TimeSource
    let logger: Logger
    let http: HTTPClient
    let wake = WakeSignal()
    let idlePoll: Duration
    /// Each request's whole time; it must stay well inside a PostgreSQL lease (30 s).
    let requestTimeout: TimeAmount
    /// Earliest time the next message may go to each Slack channel.
    let channelFreeAt = Mutex<[String: Date]>([:])

    static let slackSpacing: TimeInterval = 1
    static let maxBackoff: TimeInterval = 300
    /// A notification failing this long is given up; the group's next flush will say it again if it still matters.
    static let giveUpAfter: TimeInterval = 24 * 3600

    public init(
        store: any AlertingStore, configSource: RoutingConfigSource, clock: any TimeSource, logger: Logger,
        http: HTTPClient = .shared, idlePoll: Duration = .seconds(1), requestTimeout: TimeAmount = .seconds(10)
    ) {
        self.store = store
        self.configSource = configSource
        self.clock = clock
        self.logger = logger
        self.http = http
        self.idlePoll = idlePoll
        self.requestTimeout = requestTimeout
    }

    public func notificationsRecorded() { wake.signal() }

    public func run() async throws {
        await DueLoop.run(
            wake: wake, clock: clock, idlePoll: idlePoll, logger: logger, what: "delivering notifications",
            work: { try await deliverDue() }, nextDue: { try? await store.nextNotificationAttempt() })
    }

    /// Attempts every notification that is due; returns how many were attempted. Messages to one
    /// Slack channel go one after another (order and spacing); all others go out in parallel.
    @discardableResult
    public func deliverDue(limit: Int = 500) async throws -> Int {
        let due = try await store.dueNotifications(at: clock.now(), limit: limit)
        let config = configSource.config
        var lanes: [String: [PendingNotification]] = [:]
        var order: [String] = []
        for notification in due {
            let integration = config.receivers.lazy.flatMap(\.integrations).first { $0.id == notification.integration }
            let lane = integration.flatMap(channelKey) ?? "notification-\(notification.id)"
            if lanes[lane] == nil { order.append(lane) }
            lanes[lane, default: []].append(notification)
        }
        await withTaskGroup(of: Void.self) { renewal in
            // A long round (a Slack channel's queue goes a message a second) outlives one lease.
            renewal.addTask {
                while (try? await Task.sleep(for: Self.leaseRenewal)) != nil {
                    do { try await self.store.renewDeliveryLeases(at: self.clock.now()) } catch {
                        self.logger.warning("cannot renew delivery leases", metadata: ["error": "\(error)"])
                    }
                }
            }
            await sendLanes(order.map { lanes[$0] ?? [] }, config: config)
            renewal.cancelAll()
        }
        return due.count
    }

    private func sendLanes(_ lanes: [[PendingNotification]], config: RoutingConfig) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for queue in lanes {
                if running == Self.parallelSends {
                    await group.next()
                    running -= 1
                }
                group.addTask {
                    for notification in queue { await self.deliver(notification, config: config) }
                }
                running += 1
            }
        }
    }

    static let parallelSends = 16
    /// How often a delivery round renews its leases (PostgreSQL leases last 30 s).
    static let leaseRenewal: Duration = .seconds(10)

    private func deliver(_ notification: PendingNotification, config: RoutingConfig) async {
        let now = clock.now()
        let integration = config.receivers.lazy.flatMap(\.integrations).first { $0.id == notification.integration }
        let outcome: DeliveryOutcome
        if let integration {
            if let channel = channelKey(integration), let freeAt = channelFreeAt.withLock({ $0[channel] }), freeAt > now {
                outcome = .deferred(until: freeAt)
            } else if let earlier = await earlierAttempt(notification, integration: integration, at: now) {
                outcome = earlier
            } else {
                do {
                    // The time of the fence, not of the round: the lookup before it may have taken a while.
                    guard try await store.beginDeliveryAttempt(id: notification.id, at: clock.now()) else {
                        logger.warning(
                            "notification taken over by another replica; not sent from here",
                            metadata: ["notification": "\(notification.id)", "group": "\(notification.content.groupID)"])
                        return
                    }
                } catch {
                    // Unrecorded, the attempt must not happen: nobody could tell later that it did.
                    logger.error("cannot record a delivery attempt; not sent", metadata: ["notification": "\(notification.id)", "error": "\(error)"])
                    return
                }
                outcome = await attempt(notification, integration: integration, at: now)
            }
        } else {
            outcome = .failed("integration \(notification.integration) is no longer configured")
        }
        do {
            try await store.recordDelivery(id: notification.id, outcome, at: clock.now())
        } catch {
            logger.error("cannot record a delivery outcome", metadata: ["notification": "\(notification.id)", "error": "\(error)"])
        }
        let kind = integration?.kind.rawValue ?? "unknown"
        switch outcome {
        case .sent:
            Counter(label: "qbeast_controller_notifications_total", dimensions: [("integration", kind), ("result", "sent")]).increment()
        case .deferred:
            break
        case .retry(_, let error), .outcomeUnknown(_, let error):
            Counter(label: "qbeast_controller_notifications_total", dimensions: [("integration", kind), ("result", "retry")]).increment()
            logger.warning(
                "notification will be retried",
                metadata: [
                    "integration": "\(notification.integration)", "group": "\(notification.content.groupID)",
                    "attempt": "\(notification.attempts + 1)", "error": "\(error)",
                ])
        case .failed(let error):
            Counter(label: "qbeast_controller_notifications_total", dimensions: [("integration", kind), ("result", "failed")]).increment()
            logger.error(
                "notification refused",
                metadata: [
                    "integration": "\(notification.integration)", "group": "\(notification.content.groupID)",
                    "error": "\(error)",
                ])
        }
    }

    /// An earlier attempt went out and its answer was never recorded (its replica died, or the
    /// request timed out): the receiver may have the notification. A Slack app's channel is asked
    /// (`.sent` when the message is there, nothing when it is not, so it is posted now), once the
    /// attempt is `lookupSettle` old — a request Slack was still working on when its answer was lost
    /// is in the history by then. Other receivers get it again with the same `Idempotency-Key`,
    /// which is all they can be given. A channel that cannot be asked (a missing scope, or failing
    /// for `lookupPatience`) gets it again too: a repeat is better than a lost alert.
    private func earlierAttempt(_ notification: PendingNotification, integration: ReceiverConfig.Integration, at now: Date) async -> DeliveryOutcome? {
        guard let since = notification.unrecordedAttemptAt else { return nil }
        let metadata: Logger.Metadata = [
            "integration": "\(notification.integration)", "group": "\(notification.content.groupID)",
            "notification": "\(notification.id)", "key": "\(notification.deliveryKey)",
        ]
        guard let slack = SlackWebAPI(integration, http: http) else {
            Counter(
                label: "qbeast_controller_notifications_unanswered_total", dimensions: [("integration", integration.kind.rawValue), ("resolution", "resent")]
            ).increment()
            logger.warning(
                "sending again a notification whose earlier attempt went unanswered; the receiver can drop the repeat by its Idempotency-Key",
                metadata: metadata)
            return nil
        }
        if now < since.addingTimeInterval(Self.lookupSettle) { return .deferred(until: since.addingTimeInterval(Self.lookupSettle)) }
        do {
            guard try await slack.containsMessage(key: notification.deliveryKey, since: since, timeout: requestTimeout) else {
                Counter(label: "qbeast_controller_notifications_unanswered_total", dimensions: [("integration", "slack"), ("resolution", "not_found")])
                    .increment()
                logger.info("an unanswered attempt did not reach the Slack channel; posting it", metadata: metadata)
                return nil
            }
            Counter(label: "qbeast_controller_notifications_unanswered_total", dimensions: [("integration", "slack"), ("resolution", "found")]).increment()
            logger.info("an unanswered attempt had reached the Slack channel; recorded as sent, not posted again", metadata: metadata)
            return .sent
        } catch {
            let lookup = error as? SlackAPIError
            let reason = "cannot ask Slack whether an unanswered attempt was posted: \(String(describing: error).prefix(200))"
            if lookup?.permanent == true || now.timeIntervalSince(since) > Self.lookupPatience {
                Counter(label: "qbeast_controller_notifications_unanswered_total", dimensions: [("integration", "slack"), ("resolution", "unverified")])
                    .increment()
                logger.error("\(reason); posting it again, it may appear twice", metadata: metadata)
                return nil
            }
            return outcomeUnknown(notification, after: lookup?.retryAfter ?? backoff(notification.attempts), error: reason, at: now)
        }
    }

    /// How old an unanswered attempt must be before the channel is searched for it.
    static let lookupSettle: TimeInterval = 60
    /// How long a channel that cannot be searched is tried before the notification is posted again.
    static let lookupPatience: TimeInterval = 600

    /// Another attempt after `seconds`, unless the notification would then be older than a day.
    func retry(_ notification: PendingNotification, after seconds: TimeInterval, error: String, at now: Date) -> DeliveryOutcome {
        giveUpOr(notification, after: seconds, error: error, at: now) { .retry(at: $0, error: error) }
    }

    /// The same, keeping the mark that the receiver may have it.
    func outcomeUnknown(_ notification: PendingNotification, after seconds: TimeInterval, error: String, at now: Date) -> DeliveryOutcome {
        giveUpOr(notification, after: seconds, error: error, at: now) { .outcomeUnknown(retryAt: $0, error: error) }
    }

    private func giveUpOr(
        _ notification: PendingNotification, after seconds: TimeInterval, error: String, at now: Date,
        _ again: (Date) -> DeliveryOutcome
    ) -> DeliveryOutcome {
        if now.timeIntervalSince(notification.content.createdAt) + seconds > Self.giveUpAfter {
            return .failed("gave up after \(notification.attempts + 1) attempts: \(error)")
        }
        return again(now.addingTimeInterval(seconds))
    }

    /// 1 s, 2 s, 4 s, … up to five minutes.
    func backoff(_ attempts: Int) -> TimeInterval {
        min(Self.maxBackoff, pow(2, Double(min(attempts, 16))))
    }

    func channelKey(_ integration: ReceiverConfig.Integration) -> String? {
        integration.kind == .slack ? (integration.channel ?? integration.url.url.absoluteString) : nil
    }

    /// `Retry-After` is either seconds or an HTTP date (RFC 9110).
    public static func parseRetryAfter(_ value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        // Whole seconds (RFC 9110), at most a day: a receiver cannot park a notification forever.
        if let seconds = Int(trimmed), seconds >= 0 { return Double(min(seconds, 86_400)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: trimmed).map { max(0, $0.timeIntervalSince(now)) }
    }
}
