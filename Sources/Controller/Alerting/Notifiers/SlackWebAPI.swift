import AlertRouting
import AsyncHTTPClient
import ControllerModel
import Foundation
import NIOCore
import SplitPlaneProtocol

/// Slack's Web API with an app's bot token: `chat.postMessage` carries the notification's delivery
/// key in the message's metadata, and `conversations.history` finds that key again. That lookup is
/// what lets a replica that takes over an unanswered attempt tell whether the channel already has
/// the message, instead of posting it a second time (an incoming webhook cannot be asked).
struct SlackWebAPI {
    static let eventType = "qbeast_notification"
    /// Messages searched at most when looking for a key (Slack's pages hold up to 999).
    static let searchLimit = 5000

    let http: HTTPClient
    let postMessageURL: URL
    let token: SecretToken
    let channel: String

    init?(_ integration: ReceiverConfig.Integration, http: HTTPClient) {
        guard integration.kind == .slack, let token = integration.appToken, let channel = integration.channel else { return nil }
        self.http = http
        self.postMessageURL = integration.url.url
        self.token = token
        self.channel = channel
    }

    /// The Block Kit message, addressed to the channel, with the key in its metadata.
    static func postMessageBody(_ content: NotificationContent, channel: String, key: String) -> JSONValue {
        guard case .object(var message) = SlackMessage.render(content) else { return .null }
        message["channel"] = .string(channel)
        message["metadata"] = [
            "event_type": .string(eventType),
            "event_payload": ["delivery_key": .string(key), "group_id": .string(content.groupID)],
        ]
        return .object(message)
    }

    func postMessageRequest(_ content: NotificationContent, key: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: postMessageURL.absoluteString)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token.value)")
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "qbeast-controller")
        request.body = .bytes(ByteBuffer(data: try StrictJSON.encode(Self.postMessageBody(content, channel: channel, key: key))))
        return request
    }

    enum Answer: Equatable {
        case posted
        /// Slack did not post it and may later (`ratelimited`, a truncated request): try again.
        case notPosted(String)
        /// Slack failed along the way (`internal_error`, `fatal_error` …, or an answer without `ok`):
        /// "some aspect of the operation may have succeeded", so the next attempt asks first.
        case maybePosted(String)
        /// Slack refused it (`channel_not_found`, `invalid_auth`, `not_in_channel` …): retrying will not help.
        case refused(String)
    }

    /// Slack answers HTTP 200 with `"ok": false` and an error code for refusals; HTTP statuses
    /// (429, 5xx) are handled by the caller.
    static func classify(_ body: String) -> Answer {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)), case .bool(let ok)? = json["ok"] else {
            return .maybePosted("Slack answered without an \"ok\" field: \(body.prefix(120))")
        }
        if ok { return .posted }
        let error = json["error"]?.stringValue ?? "unknown_error"
        switch error {
        case "ratelimited", "rate_limited", "request_timeout": return .notPosted("Slack API error: \(error)")
        case "internal_error", "fatal_error", "service_unavailable": return .maybePosted("Slack API error: \(error)")
        default: return .refused("Slack API error: \(error)")
        }
    }

    /// `conversations.history` errors that asking again will not cure.
    static let permanentLookupErrors: Set<String> = [
        "missing_scope", "not_in_channel", "channel_not_found", "invalid_auth", "not_authed", "account_inactive",
        "token_revoked", "token_expired", "no_permission", "access_denied", "ekm_access_denied", "team_access_not_granted",
    ]

    /// Whether a message carrying `key` was posted to the channel since `since` (a minute of clock
    /// skew allowed). Throws when Slack cannot be asked; the caller must not post then.
    func containsMessage(key: String, since: Date, timeout: TimeAmount) async throws -> Bool {
        let history = postMessageURL.deletingLastPathComponent().appendingPathComponent("conversations.history")
        var cursor: String?
        var searched = 0
        repeat {
            var components = URLComponents(url: history, resolvingAgainstBaseURL: false)!
            components.queryItems =
                [
                    URLQueryItem(name: "channel", value: channel),
                    URLQueryItem(name: "oldest", value: String(format: "%.6f", since.timeIntervalSince1970 - 60)),
                    URLQueryItem(name: "include_all_metadata", value: "true"),
                    URLQueryItem(name: "limit", value: "200"),
                ] + (cursor.map { [URLQueryItem(name: "cursor", value: $0)] } ?? [])
            var request = HTTPClientRequest(url: components.string!)
            request.headers.add(name: "Authorization", value: "Bearer \(token.value)")
            request.headers.add(name: "User-Agent", value: "qbeast-controller")
            let response = try await http.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { NotificationDelivery.parseRetryAfter($0, now: Date()) }
                throw SlackAPIError("conversations.history answered HTTP \(response.status.code)", retryAfter: retryAfter)
            }
            let page = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
            guard page["ok"]?.boolValue == true else {
                let error = page["error"]?.stringValue ?? "unknown_error"
                throw SlackAPIError("conversations.history: \(error)", permanent: Self.permanentLookupErrors.contains(error))
            }
            let messages = page["messages"]?.arrayValue ?? []
            if messages.contains(where: {
                $0["metadata"]?["event_type"]?.stringValue == Self.eventType
                    && $0["metadata"]?["event_payload"]?["delivery_key"]?.stringValue == key
            }) {
                return true
            }
            searched += messages.count
            cursor = page["response_metadata"]?["next_cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if page["has_more"]?.boolValue != true { cursor = nil }
        } while cursor != nil && searched < Self.searchLimit
        if cursor != nil { throw SlackAPIError("more than \(Self.searchLimit) messages in the channel since the attempt; not searched to the end") }
        return false
    }
}

struct SlackAPIError: Error, CustomStringConvertible {
    let description: String
    /// Slack's `Retry-After`, when it rate-limited the call.
    var retryAfter: TimeInterval?
    /// Asking again will not help (a missing scope, a revoked token …).
    var permanent = false

    init(_ description: String, retryAfter: TimeInterval? = nil, permanent: Bool = false) {
        self.description = description
        self.retryAfter = retryAfter
        self.permanent = permanent
    }
}
