import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SplitPlaneProtocol
import Synchronization

/// A test server standing in for Slack's incoming webhooks (the real Slack is unreachable from these
/// machines) and for Alertmanager-webhook consumers. It records exactly what arrives — path, content
/// type, raw body, parsed JSON, arrival time — and answers as Slack does (`200 ok`), or with scripted
/// answers such as `429` with `Retry-After`.
public final class WebhookTestServer: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var contentType: String?
        public var body: Data
        public var json: JSONValue?
        public var receivedAt: Date
        /// The `Idempotency-Key` header, by which a receiver can drop a repeat.
        public var idempotencyKey: String?
    }

    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static let ok = Answer(status: 200, body: "ok")
    }

    private final class State: Sendable {
        let received = Mutex<[Received]>([])
        let idempotencyKeys = Mutex<[String?]>([])
        let script = Mutex<[Answer]>([])
    }

    private let server: LoopbackServer
    private let state: State
    public var port: Int { server.port }

    public func url(_ path: String = "/") -> String { "http://127.0.0.1:\(port)\(path)" }
    /// Requests answered with 2xx: what the receiver actually accepted.
    public var received: [Received] { state.received.withLock { $0 } }
    /// The `Idempotency-Key` of every POST, accepted or not, in order.
    public var idempotencyKeys: [String?] { state.idempotencyKeys.withLock { $0 } }

    /// The next requests get these answers, in order; after them, `200 ok` again.
    public func script(_ answers: [Answer]) { state.script.withLock { $0 += answers } }
    public func reset() { state.received.withLock { $0.removeAll() } }

    public static func start() async throws -> WebhookTestServer {
        let state = State()
        let router = Router()
        router.post("**") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 16 << 20))
            let answer = state.script.withLock { $0.isEmpty ? Answer.ok : $0.removeFirst() }
            state.idempotencyKeys.withLock { $0.append(request.headers[HTTPField.Name("Idempotency-Key")!]) }
            if (200..<300).contains(answer.status) {
                let json = (try? JSONSerialization.jsonObject(with: body)).map(jsonValue)
                state.received.withLock {
                    $0.append(
                        Received(
                            path: request.uri.path, contentType: request.headers[.contentType], body: body, json: json, receivedAt: Date(),
                            idempotencyKey: request.headers[HTTPField.Name("Idempotency-Key")!]))
                }
            }
            var headers = HTTPFields()
            for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        // GET answers from the same script, so the server can also stand in for a document such as a JWKS.
        router.get("**") { _, _ -> Response in
            let answer = state.script.withLock { $0.isEmpty ? Answer.ok : $0.removeFirst() }
            var headers = HTTPFields()
            for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        return WebhookTestServer(server: await LoopbackServer.start(router, label: "webhook-test-server"), state: state)
    }

    private init(server: LoopbackServer, state: State) {
        self.server = server
        self.state = state
    }

    public func stop() async throws { try await server.stop() }
}

/// Foundation's parse, turned into `JSONValue`: much faster than decoding `JSONValue` through Codable.
private func jsonValue(_ any: Any) -> JSONValue {
    switch any {
    case let object as [String: Any]: .object(object.mapValues(jsonValue))
    case let array as [Any]: .array(array.map(jsonValue))
    case let string as String: .string(string)
    case let number as NSNumber:
        String(cString: number.objCType) == "c" ? .bool(number.boolValue) : .number(number.doubleValue)
    default: .null
    }
}
