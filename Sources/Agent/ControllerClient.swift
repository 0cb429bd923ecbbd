import AsyncHTTPClient
import Foundation
import Metrics
import NIOCore
import NIOHTTP1
import NIOSSL
import SplitPlaneProtocol
import SplitPlaneTLS
import Synchronization

/// The agent's only network peer: the controller's agent gateway over mutual TLS. Every call is
/// outbound; the agent never listens for the controller. With several controller replicas it talks
/// to one at a time and moves on to the next when a request cannot reach it (see `ControllerURLs`).
public final class ControllerClient: ComponentSource, Sendable {
    /// Replaced when the certificate is renewed; requests already running finish on the old one.
    private let current: Mutex<HTTPClient>
    private let retired = Mutex<[HTTPClient]>([])
    public let urls: ControllerURLs

    private var http: HTTPClient { current.withLock { $0 } }

    public init(configuration: AgentConfiguration, journal: EgressJournal? = nil) throws {
        // With replicas to fall back on, an unanswered connect (a host that went away, not a refused
        // port) moves on after 5 s instead of 10.
        connectTimeout = configuration.controllerURLs.count > 1 ? .seconds(5) : .seconds(10)
        // Through the customer's proxy (HTTP CONNECT; mutual TLS inside the tunnel) unless NO_PROXY names
        // every controller host.
        proxy = configuration.proxy?.configuration(for: configuration.controllerURLs.map { URLComponents(string: $0)?.host ?? "" })
        current = Mutex(try Self.client(configuration.tls, connectTimeout: connectTimeout, proxy: proxy))
        urls = ControllerURLs(configuration.controllerURLs)
        self.journal = journal
    }

    private let connectTimeout: TimeAmount
    private let proxy: HTTPClient.Configuration.Proxy?
    /// Every message that leaves, recorded in the customer's namespace (nil: not kept).
    let journal: EgressJournal?

    private static func client(_ tls: TLSFiles, connectTimeout: TimeAmount, proxy: HTTPClient.Configuration.Proxy?) throws -> HTTPClient {
        var clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: try TLSConfigurations.agentClient(tls),
            timeout: .init(connect: connectTimeout),
            proxy: proxy)
        clientConfiguration.httpVersion = .automatic
        clientConfiguration.decompression = .disabled
        // A failed connection fails the request, so the agent's own RetryPolicy (equal jitter, 0.5 s
        // doubling to 60 s) paces reconnection. AsyncHTTPClient's default retries connecting by itself
        // (100 ms × 1.25ⁿ, 3 % jitter) while the request waits: after a controller restart a fleet of
        // 1,000 agents made ~13,000 connection attempts, peaking at ~4,500/s (make bench, fleet).
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    }

    /// New connections use `tls` from now on. The old client is kept until `shutdown`, so a long poll
    /// or alert delivery in flight on it is not cut.
    public func switchCredentials(to tls: TLSFiles) throws {
        let fresh = try Self.client(tls, connectTimeout: connectTimeout, proxy: proxy)
        let old = current.withLock { client in
            defer { client = fresh }
            return client
        }
        retired.withLock { $0.append(old) }
        // Two minutes is longer than any request the agent makes (a long poll is at most 30 s + 30 s).
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(120))
            guard let self else { return }
            let due = self.retired.withLock { clients in
                defer { clients.removeAll { $0 === old } }
                return clients.contains { $0 === old }
            }
            if due { try? await old.shutdown() }
        }
    }

    public func shutdown() async throws {
        for client in retired.withLock({ $0 }) { try? await client.shutdown() }
        try await http.shutdown()
    }

    /// `POST /agent/v1/certificate`: a certificate for a new key, over the current connection.
    public func renew(csr: String) async throws -> IssuedCertificate {
        var request = HTTPClientRequest(url: "/agent/v1/certificate")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let data = try StrictJSON.encode(RenewalRequest(csr: csr))
        request.body = .bytes(ByteBuffer(data: data))
        let body = try await send(request, deadline: .seconds(30), kind: EgressMessage(kind: "certificate", body: data))
        return try StrictJSON.decode(IssuedCertificate.self, from: body)
    }

    /// Long poll: returns as soon as the environment's revision passes `after`, or unchanged after `timeout`.
    public func desiredState(after revision: Int64, timeout: Duration) async throws -> DesiredState {
        let seconds = timeout.components.seconds
        let request = HTTPClientRequest(url: "/agent/v1/desired?after=\(revision)&timeout=\(seconds)")
        // The controller holds the request for up to `timeout`; allow transfer time on top.
        let body = try await send(request, deadline: timeout + .seconds(30), kind: nil)
        return try StrictJSON.decode(DesiredState.self, from: body)
    }

    public func putStatus(_ report: StatusReport) async throws {
        var request = HTTPClientRequest(url: "/agent/v1/status")
        request.method = .PUT
        let data = try StrictJSON.encode(report)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: data))
        _ = try await send(request, deadline: .seconds(30), kind: EgressMessage(kind: "status", body: data))
    }

    public func postAlerts(_ batch: AlertBatch) async throws -> Bool {
        var request = HTTPClientRequest(url: "/agent/v1/alerts")
        request.method = .POST
        let data = try StrictJSON.encode(batch)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: data))
        let body = try await send(
            request, deadline: .seconds(30),
            kind: EgressMessage(
                kind: "alerts", body: data, labelNames: Set(batch.alerts.flatMap(\.labels.keys)), annotationNames: Set(batch.alerts.flatMap(\.annotations.keys))
            ))
        let receipt = try StrictJSON.decode(AlertBatchReceipt.self, from: body)
        guard receipt.sequence == batch.sequence else {
            throw ControllerClientError.unexpectedAnswer("receipt for sequence \(receipt.sequence), sent \(batch.sequence)")
        }
        return !receipt.duplicate
    }

    /// `GET /agent/v1/components/{hash}`: a resolved component of this agent's environment, checked against its hash.
    public func component(hash: String) async throws -> ResolvedComponent {
        // The hash goes into the URL: nothing but a well-formed one is sent.
        guard ResolvedComponent.isContentHash(hash) else {
            throw ControllerClientError.unexpectedAnswer("component hash \"\(hash.prefix(80))\" is not sha256:<64 hex>")
        }
        let body = try await send(HTTPClientRequest(url: "/agent/v1/components/\(hash)"), deadline: .seconds(60), kind: nil)
        let component = try StrictJSON.decode(ResolvedComponent.self, from: body)
        try component.verify(as: hash)
        return component
    }

    /// Sends `request` (its URL a path) to the current controller URL. When no answer comes back — the
    /// connection is refused or drops, or the deadline passes — the next request goes to the next URL;
    /// an HTTP answer, even an error, keeps the agent where it is. The caller's retry loop resends.
    private func send(_ request: HTTPClientRequest, deadline: Duration, kind egress: EgressMessage?) async throws -> Data {
        var request = request
        let (index, baseURL) = urls.current
        request.url = baseURL + request.url
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(deadline.components.seconds))
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            urls.unreachable(index)
            throw proxy.flatMap { Self.explainProxyFailure(error, proxy: $0) } ?? error
        }
        if let egress {
            // What left the environment, per message kind: the figure a customer's audit asks for. Counted
            // (and journalled) once the controller answered, so it matches what the controller counted.
            Counter(label: "qbeast_agent_bytes_sent_total", dimensions: [("kind", egress.kind)]).increment(by: Int64(egress.body.count))
            journal?.record(egress)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let problem = try? StrictJSON.decoder().decode(Problem.self, from: Data(buffer: body))
            if [429, 503].contains(response.status.code), let retryAfter = response.headers.first(name: "Retry-After").flatMap(Self.retryAfter) {
                throw ControllerClientError.comeBackLater(after: retryAfter, detail: problem?.detail ?? "")
            }
            throw ControllerClientError.refused(
                status: Int(response.status.code),
                detail: problem?.detail ?? String(buffer: body).prefix(300).description)
        }
        return Data(buffer: body)
    }

    /// A failure of the customer's proxy, said plainly (AsyncHTTPClient's own names are terse). The caller's
    /// retry loop backs off as for any connection failure; nothing queued is lost.
    static func explainProxyFailure(_ error: any Error, proxy: HTTPClient.Configuration.Proxy) -> ControllerClientError? {
        let address = "\(proxy.host):\(proxy.port)"
        if let error = error as? HTTPClientError {
            if error == .proxyAuthenticationRequired {
                return .proxy("the HTTPS proxy \(address) refused the credentials (407 Proxy Authentication Required): check user:password in HTTPS_PROXY")
            }
            if error == .invalidProxyResponse {
                // AsyncHTTPClient keeps the status to itself; some proxies (tinyproxy) answer a CONNECT with
                // bad credentials 401 rather than 407, which lands here too.
                let hint = proxy.authorization == nil ? "" : "check the credentials in HTTPS_PROXY, and "
                return .proxy(
                    "the HTTPS proxy \(address) refused or dropped the CONNECT tunnel to the controller (\(hint)that the proxy allows the controller's host and port)"
                )
            }
        }
        // NIO's connection errors (refused, timed out) name no type this module sees; their text does.
        let text = "\(error)"
        guard ["connectTimeout", "connectionRefused", "Connection refused", "NIOConnectionError"].contains(where: text.contains) else { return nil }
        return .proxy("cannot connect to the HTTPS proxy \(address): \(text)")
    }

    /// `Retry-After` in seconds (the form the controller sends), at most five minutes; nil for a date or nonsense.
    public static func retryAfter(_ value: String) -> Duration? {
        guard let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return nil }
        return .seconds(min(seconds, 300))
    }
}

/// The controller URLs an agent may use (one per replica, or just one) and the one it uses now. A
/// request that gets no answer moves the agent on to the next URL, round the list.
public final class ControllerURLs: Sendable {
    public let all: [String]
    private let index = Mutex(0)

    public init(_ urls: [String]) {
        all = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        precondition(!all.isEmpty, "at least one controller URL")
    }

    /// The URL requests go to now, with its position (to hand back to `unreachable`).
    public var current: (index: Int, url: String) {
        index.withLock { ($0, all[$0]) }
    }

    /// A request to `all[failed]` got no answer: move on to the next URL — unless another request
    /// failing on the same URL has already done so, so that several loops failing at once on one
    /// dead replica move the agent one step, not one step each.
    public func unreachable(_ failed: Int) {
        index.withLock { if $0 == failed { $0 = (failed + 1) % all.count } }
    }
}

public enum ControllerClientError: Error, CustomStringConvertible, Equatable {
    case refused(status: Int, detail: String)
    case unexpectedAnswer(String)
    /// `503`/`429` with `Retry-After`: the controller (restarting, or shedding load) said when to come back.
    case comeBackLater(after: Duration, detail: String)
    /// The customer's HTTPS proxy refused, dropped or could not be reached.
    case proxy(String)

    public var description: String {
        switch self {
        case .refused(let status, let detail): "controller answered \(status): \(detail)"
        case .comeBackLater(let after, let detail): "controller asked to come back in \(after): \(detail)"
        case .unexpectedAnswer(let detail): "unexpected answer from the controller: \(detail)"
        case .proxy(let detail): detail
        }
    }

    /// 4xx answers other than 408/429 will not change on retry; the agent reports them instead of hammering.
    public var isPermanent: Bool {
        if case .refused(let status, _) = self { return (400..<500).contains(status) && status != 408 && status != 429 }
        return false
    }
}
