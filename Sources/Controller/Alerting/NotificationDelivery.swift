import AsyncHTTPClient
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
/// spaces Slack messages to one channel at least a second apart, and records every outcome. A
/// notification is recorded before it is sent, so a restart resends at most the one in flight.
public final class NotificationDelivery: Service, Sendable {
    let store: any ControllerStore
    let configSource: RoutingConfigSource
    let clock: any TimeSource
    let logger: Logger
    let http: HTTPClient
    let wake = WakeSignal()
    let idlePoll: Duration
    /// Earliest time the next message may go to each Slack channel.
    private let channelFreeAt = Mutex<[String: Date]>([:])

    static let slackSpacing: TimeInterval = 1
    static let maxBackoff: TimeInterval = 300
    /// A notification failing this long is given up; the group's next flush will say it again if it still matters.
    static let giveUpAfter: TimeInterval = 24 * 3600

    public init(store: any ControllerStore, configSource: RoutingConfigSource, clock: any TimeSource, logger: Logger,
                http: HTTPClient = .shared, idlePoll: Duration = .seconds(1)) {
        self.store = store
        self.configSource = configSource
        self.clock = clock
        self.logger = logger
        self.http = http
        self.idlePoll = idlePoll
    }

    public func notificationsRecorded() { wake.signal() }

    public func run() async throws {
        await DueLoop.run(wake: wake, clock: clock, idlePoll: idlePoll, logger: logger, what: "delivering notifications",
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
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for lane in order {
                if running == Self.parallelSends {
                    await group.next()
                    running -= 1
                }
                let queue = lanes[lane] ?? []
                group.addTask {
                    for notification in queue { await self.deliver(notification, config: config) }
                }
                running += 1
            }
        }
        return due.count
    }

    static let parallelSends = 16

    private func deliver(_ notification: PendingNotification, config: RoutingConfig) async {
        let now = clock.now()
        let integration = config.receivers.lazy.flatMap(\.integrations).first { $0.id == notification.integration }
        let outcome: DeliveryOutcome
        if let integration {
            if let channel = channelKey(integration), let freeAt = channelFreeAt.withLock({ $0[channel] }), freeAt > now {
                outcome = .deferred(until: freeAt)
            } else {
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
        case .retry(_, let error):
            Counter(label: "qbeast_controller_notifications_total", dimensions: [("integration", kind), ("result", "retry")]).increment()
            logger.warning("notification will be retried", metadata: ["integration": "\(notification.integration)", "group": "\(notification.content.groupID)",
                                                                     "attempt": "\(notification.attempts + 1)", "error": "\(error)"])
        case .failed(let error):
            Counter(label: "qbeast_controller_notifications_total", dimensions: [("integration", kind), ("result", "failed")]).increment()
            logger.error("notification refused", metadata: ["integration": "\(notification.integration)", "group": "\(notification.content.groupID)",
                                                           "error": "\(error)"])
        }
    }

    private func attempt(_ notification: PendingNotification, integration: ReceiverConfig.Integration, at now: Date) async -> DeliveryOutcome {
        let body: JSONValue = switch integration.kind {
        case .slack: SlackMessage.render(notification.content)
        case .webhook: AlertmanagerPayloads.webhook(notification.content, maxAlerts: integration.maxAlerts)
        case .alertmanager: AlertmanagerPayloads.forward(notification.content)
        }
        var url = integration.url.url
        if integration.kind == .alertmanager { url = url.appendingPathComponent("api/v2/alerts") }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "qbeast-controller")
        let status: UInt
        let retryAfter: String?
        let detail: String
        do {
            request.body = .bytes(ByteBuffer(data: try StrictJSON.encode(body)))
            let response = try await http.execute(request, timeout: .seconds(10))
            status = response.status.code
            retryAfter = response.headers.first(name: "Retry-After")
            detail = String(buffer: try await response.body.collect(upTo: 4096)).prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            // Transport errors name the peer's address at most, never the URL (Slack's carries its secret).
            return retry(notification, after: backoff(notification.attempts), error: "request failed: \(String(describing: error).prefix(200))", at: now)
        }
        if let channel = channelKey(integration) {
            channelFreeAt.withLock { $0[channel] = now.addingTimeInterval(Self.slackSpacing) }
        }
        switch status {
        case 200..<300:
            return .sent
        case 429:
            let wait = retryAfter.flatMap { Self.parseRetryAfter($0, now: now) } ?? backoff(notification.attempts)
            if let channel = channelKey(integration) {
                channelFreeAt.withLock { $0[channel] = now.addingTimeInterval(wait) }
            }
            return retry(notification, after: wait, error: "HTTP 429 (rate limited; retry after \(Int(wait.rounded(.up)))s)", at: now)
        case 400..<500:
            return .failed("HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")")
        default:
            return retry(notification, after: backoff(notification.attempts), error: "HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")", at: now)
        }
    }

    private func retry(_ notification: PendingNotification, after seconds: TimeInterval, error: String, at now: Date) -> DeliveryOutcome {
        if now.timeIntervalSince(notification.content.createdAt) + seconds > Self.giveUpAfter {
            return .failed("gave up after \(notification.attempts + 1) attempts: \(error)")
        }
        return .retry(at: now.addingTimeInterval(seconds), error: error)
    }

    /// 1 s, 2 s, 4 s, … up to five minutes.
    func backoff(_ attempts: Int) -> TimeInterval {
        min(Self.maxBackoff, pow(2, Double(min(attempts, 16))))
    }

    private func channelKey(_ integration: ReceiverConfig.Integration) -> String? {
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
