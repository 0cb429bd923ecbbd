import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SplitPlaneProtocol
import Synchronization

/// A test server standing in for Slack's Web API (the real Slack is unreachable from these machines):
/// `chat.postMessage` and `conversations.history` as Slack answers them — bearer token, HTTP 200 with
/// `{"ok": false, "error": …}` for refusals, 429 with `Retry-After` when rate limited, `ts` message
/// ids, message metadata returned only with `include_all_metadata`, newest first, cursor paging.
/// It can also post a message and then answer too late, as a lost answer looks to its client.
public final class SlackAPITestServer: Sendable {
    public struct Message: Sendable {
        public var channel: String
        public var ts: String
        public var text: String
        public var json: JSONValue
        public var metadata: JSONValue?
        /// The path prefix the client posted under (`postMessageURL(via:)`), to tell clients apart.
        public var via: String?
    }

    /// What the next `chat.postMessage` gets instead of being posted, or `postThenStall` to post and
    /// delay the answer.
    public enum Script: Sendable {
        case error(String)
        case rateLimited(retryAfter: Int)
        case postThenStall(seconds: Double)
    }

    private final class State: Sendable {
        let messages = Mutex<[Message]>([])
        let postScript = Mutex<[Script]>([])
        let historyErrors = Mutex<[Script]>([])
        let historyCalls = Mutex(0)
        let stallEvery = Mutex<Double?>(nil)
        let sequence = Mutex(0)
    }

    public let token: String
    public let channels: Set<String>
    private let server: LoopbackServer
    private let state: State

    public var port: Int { server.port }
    /// The `app_url` for a Slack integration.
    public var postMessageURL: String { "http://127.0.0.1:\(port)/api/chat.postMessage" }
    /// The same under a prefix of its own, so messages say which client posted them (`Message.via`).
    public func postMessageURL(via: String) -> String { "http://127.0.0.1:\(port)/\(via)/api/chat.postMessage" }
    /// Messages posted, oldest first.
    public var messages: [Message] { state.messages.withLock { $0 } }
    public var historyCalls: Int { state.historyCalls.withLock { $0 } }

    public func script(_ answers: [Script]) { state.postScript.withLock { $0 += answers } }
    /// While set, every post is made and then answered this many seconds late (nil: on time again).
    public func stallAnswers(seconds: Double?) { state.stallEvery.withLock { $0 = seconds } }
    /// The next `conversations.history` calls fail: `.error(code)` answers `{"ok": false, "error": code}`,
    /// `.rateLimited` answers 429 with `Retry-After`.
    public func failHistory(_ answers: [Script]) { state.historyErrors.withLock { $0 += answers } }

    /// `now` stamps messages (`ts`): a test's manual clock, so the history's time window matches the controller's.
    public static func start(
        token: String = "xoxb-test-token", channels: Set<String> = ["C0TESTCHAN1"],
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> SlackAPITestServer {
        let state = State()
        let router = Router()
        for prefix in ["", "/{via}"] {
            router.post("\(prefix)/api/chat.postMessage") { request, context -> Response in
                let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
                guard let error = Self.authError(request, token: token) else {
                    return try await post(
                        body, contentType: request.headers[.contentType] ?? "", state: state, channels: channels, now: now(),
                        via: context.parameters.get("via"))
                }
                return Self.answer(["ok": false, "error": .string(error)])
            }
            router.get("\(prefix)/api/conversations.history") { request, _ -> Response in
                state.historyCalls.withLock { $0 += 1 }
                if let error = Self.authError(request, token: token) { return Self.answer(["ok": false, "error": .string(error)]) }
                switch state.historyErrors.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                case .error(let error)?: return Self.answer(["ok": false, "error": .string(error)])
                case .rateLimited(let seconds)?:
                    return Self.answer(["ok": false, "error": "ratelimited"], status: .tooManyRequests, headers: ["Retry-After": "\(seconds)"])
                case .postThenStall?, nil: return history(request.uri.queryParameters, state: state, channels: channels)
                }
            }
        }
        return SlackAPITestServer(token: token, channels: channels, server: await LoopbackServer.start(router, label: "slack-api-test-server"), state: state)
    }

    private static func post(
        _ body: Data, contentType: String, state: State, channels: Set<String>, now: Date,
        via: String?
    ) async throws -> Response {
        guard contentType.hasPrefix("application/json"), let json = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return answer(["ok": false, "error": "invalid_json"])
        }
        guard let channel = json["channel"]?.stringValue else { return answer(["ok": false, "error": "channel_not_found"]) }
        guard channels.contains(channel) else { return answer(["ok": false, "error": "channel_not_found"]) }
        guard json["text"]?.stringValue != nil || json["blocks"] != nil else { return answer(["ok": false, "error": "no_text"]) }
        var stall: Double?
        switch state.postScript.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
        case .error(let error)?: return answer(["ok": false, "error": .string(error)])
        case .rateLimited(let seconds)?:
            return answer(["ok": false, "error": "ratelimited"], status: .tooManyRequests, headers: ["Retry-After": "\(seconds)"])
        case .postThenStall(let seconds)?: stall = seconds
        case nil: stall = state.stallEvery.withLock { $0 }
        }
        let sequence = state.sequence.withLock {
            $0 += 1; return $0
        }
        let ts = String(format: "%.0f.%06d", now.timeIntervalSince1970.rounded(.down), sequence)
        let message = Message(channel: channel, ts: ts, text: json["text"]?.stringValue ?? "", json: json, metadata: json["metadata"], via: via)
        state.messages.withLock { $0.append(message) }
        if let stall { try await Task.sleep(for: .seconds(stall)) }
        return answer(["ok": true, "channel": .string(channel), "ts": .string(ts), "message": stored(message, withMetadata: false)])
    }

    private static func history(_ query: Parameters, state: State, channels: Set<String>) -> Response {
        guard let channel = query["channel"].map(String.init), channels.contains(channel) else {
            return answer(["ok": false, "error": "channel_not_found"])
        }
        let oldest = query["oldest"].flatMap { Double(String($0)) } ?? 0
        let limit = min(999, max(1, query["limit"].flatMap { Int(String($0)) } ?? 100))
        let offset = query["cursor"].flatMap { Data(base64Encoded: String($0)) }.flatMap { Int(String(decoding: $0, as: UTF8.self).dropFirst(7)) } ?? 0
        let withMetadata = query["include_all_metadata"].map { $0 == "true" || $0 == "1" } ?? false
        let matching = state.messages.withLock { $0 }.filter { $0.channel == channel && (Double($0.ts) ?? 0) > oldest }.reversed()
        let page = Array(matching.dropFirst(offset).prefix(limit))
        let more = matching.count > offset + page.count
        var answer: [String: JSONValue] = ["ok": true, "messages": .array(page.map { stored($0, withMetadata: withMetadata) }), "has_more": .bool(more)]
        if more { answer["response_metadata"] = ["next_cursor": .string(Data("offset:\(offset + page.count)".utf8).base64EncodedString())] }
        return Self.answer(.object(answer))
    }

    private static func stored(_ message: Message, withMetadata: Bool) -> JSONValue {
        var json: [String: JSONValue] = [
            "type": "message", "subtype": "bot_message", "text": .string(message.text), "ts": .string(message.ts),
            "bot_id": "B0TESTBOT01", "app_id": "A0TESTAPP01",
        ]
        if let blocks = message.json["blocks"] { json["blocks"] = blocks }
        if withMetadata, let metadata = message.metadata { json["metadata"] = metadata }
        return .object(json)
    }

    private static func authError(_ request: Request, token: String) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return "not_authed" }
        return header.dropFirst("Bearer ".count) == token ? nil : "invalid_auth"
    }

    private static func answer(_ json: JSONValue, status: HTTPResponse.Status = .ok, headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let body = (try? StrictJSON.encode(json)) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    private init(token: String, channels: Set<String>, server: LoopbackServer, state: State) {
        self.token = token
        self.channels = channels
        self.server = server
        self.state = state
    }

    public func stop() async throws { try await server.stop() }
}
