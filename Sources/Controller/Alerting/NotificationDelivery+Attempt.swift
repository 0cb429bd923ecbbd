import AlertRouting
import AsyncHTTPClient
import ControllerModel
import Foundation
import NIOCore
import NIOPosix
import SplitPlaneProtocol

extension PendingNotification {
    /// Names this notification to receivers, the same on every attempt and from every replica:
    /// webhooks get it as `Idempotency-Key`, Slack apps in the message's metadata. Includes the
    /// creation time so two controllers with databases of their own never share one.
    public var deliveryKey: String {
        let text = "\(content.groupID)\n\(id)\n\(content.createdAt.timeIntervalSince1970)"
        return Hex.sha256(text, bytes: 16)
    }
}

extension NotificationDelivery {
    /// One request to the integration, its answer turned into an outcome.
    func attempt(_ notification: PendingNotification, integration: ReceiverConfig.Integration, at now: Date) async -> DeliveryOutcome {
        let slackApp = SlackWebAPI(integration, http: http)
        let status: UInt
        let retryAfter: String?
        let detail: String
        do {
            let request = try slackApp?.postMessageRequest(notification.content, key: notification.deliveryKey) ?? webhookRequest(notification, integration)
            let response = try await http.execute(request, timeout: requestTimeout)
            status = response.status.code
            retryAfter = response.headers.first(name: "Retry-After")
            detail = String(buffer: try await response.body.collect(upTo: 64 << 10)).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            // Transport errors name the peer's address at most, never the URL (Slack's carries its secret).
            let message = "request failed: \(String(describing: error).prefix(200))"
            return Self.neverConnected(error)
                ? retry(notification, after: backoff(notification.attempts), error: message, at: now)
                : outcomeUnknown(notification, after: backoff(notification.attempts), error: message, at: now)
        }
        if let channel = channelKey(integration) {
            channelFreeAt.withLock { $0[channel] = now.addingTimeInterval(Self.slackSpacing) }
        }
        let shortDetail = detail.prefix(200)
        switch status {
        case 200..<300:
            guard slackApp != nil else { return .sent }
            switch SlackWebAPI.classify(detail) {
            case .posted: return .sent
            case .refused(let error): return .failed(error)
            case .notPosted(let error): return retry(notification, after: backoff(notification.attempts), error: error, at: now)
            case .maybePosted(let error): return outcomeUnknown(notification, after: backoff(notification.attempts), error: error, at: now)
            }
        case 429:
            let wait = retryAfter.flatMap { Self.parseRetryAfter($0, now: now) } ?? backoff(notification.attempts)
            if let channel = channelKey(integration) {
                channelFreeAt.withLock { $0[channel] = now.addingTimeInterval(wait) }
            }
            return retry(notification, after: wait, error: "HTTP 429 (rate limited; retry after \(Int(wait.rounded(.up)))s)", at: now)
        case 400..<500:
            return .failed("HTTP \(status)\(shortDetail.isEmpty ? "" : ": \(shortDetail)")")
        default:
            // Behind Slack's edge, a 5xx may come after the message was posted: the next attempt asks first.
            let error = "HTTP \(status)\(shortDetail.isEmpty ? "" : ": \(shortDetail)")"
            return slackApp != nil
                ? outcomeUnknown(notification, after: backoff(notification.attempts), error: error, at: now)
                : retry(notification, after: backoff(notification.attempts), error: error, at: now)
        }
    }

    private func webhookRequest(_ notification: PendingNotification, _ integration: ReceiverConfig.Integration) throws -> HTTPClientRequest {
        let body: JSONValue =
            switch integration.kind {
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
        // Slack's incoming webhooks ignore it; webhook receivers can drop a repeat by it.
        if integration.kind != .slack { request.headers.add(name: "Idempotency-Key", value: notification.deliveryKey) }
        request.body = .bytes(ByteBuffer(data: try StrictJSON.encode(body)))
        return request
    }

    /// Failures before a connection existed: the receiver cannot have seen the request.
    static func neverConnected(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) { return true }
        return false
    }
}
