import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import Metrics
import NIOCore
import NIOSSL
import NIOTLS
import ServiceSupport
import Synchronization

/// A listener's child channel with `ConnectionLimits` enforced around whatever the base channel
/// sets up (TLS with HTTP/1.1, or TLS with HTTP/2 negotiation): a handshake deadline and a cap per
/// client certificate at the connection, request-head and request-body deadlines per request.
struct GuardedChildChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value
    let base: Base
    let guardState: ListenerGuard

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // After the base's TLS handler, so the handshake's completion event reaches the guard.
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLServerHandler.self)
            try operations.addHandler(ConnectionGuardHandler(listener: guardState), position: .after(tls))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// What one listener's guards share: its limits, its name for metrics, and the open connections per
/// client certificate.
final class ListenerGuard: Sendable {
    let name: String
    let limits: ConnectionLimits
    /// Where the listener keeps each connection's parsed client certificate (mutual TLS listeners).
    let peers: PeerCertificates?
    private let perCertificate = Mutex<[String: Int]>([:])

    init(name: String, limits: ConnectionLimits, peers: PeerCertificates? = nil) {
        self.name = name
        self.limits = limits
        self.peers = peers
    }

    /// The handlers each request (an HTTP/1.1 connection's, or one HTTP/2 stream's) gets after decoding.
    func requestHandlers() -> [any RemovableChannelHandler] {
        [RequestTimeoutHandler(listener: self)]
    }

    func closed(_ reason: String) {
        Counter(label: "qbeast_controller_connections_closed_total", dimensions: [("listener", name), ("reason", reason)]).increment()
    }

    /// Counts a connection for `certificate`; false (and not counted) when that would pass the cap.
    func admit(certificate: String) -> Bool {
        guard let cap = limits.maxConnectionsPerCertificate else { return true }
        return perCertificate.withLock { counts in
            let open = counts[certificate, default: 0]
            guard open < cap else { return false }
            counts[certificate] = open + 1
            return true
        }
    }

    func release(certificate: String) {
        perCertificate.withLock { counts in
            let open = (counts[certificate] ?? 1) - 1
            counts[certificate] = open > 0 ? open : nil
        }
    }
}

/// Closes a connection whose TLS handshake does not finish in time, and one whose client certificate
/// already holds as many connections as the listener allows.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let listener: ListenerGuard
    private var deadline: Scheduled<Void>?
    private var certificate: String?

    init(listener: ListenerGuard) {
        self.listener = listener
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let listener = self.listener
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(listener.limits.handshakeTimeout)) {
            listener.closed("handshake_timeout")
            loopBound.value.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            deadline = nil
            if let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate {
                if listener.limits.maxConnectionsPerCertificate != nil {
                    let serial = peer.serialNumber.map { String($0, radix: 16) }.joined(separator: ":")
                    if listener.admit(certificate: serial) {
                        certificate = serial
                    } else {
                        listener.closed("certificate_connection_limit")
                        context.close(promise: nil)
                        return
                    }
                }
                listener.peers?.connected(context.channel, peer: peer)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let certificate {
            listener.release(certificate: certificate)
            self.certificate = nil
        }
        listener.peers?.closed(context.channel)
        context.fireChannelInactive()
    }
}

extension HTTPServerBuilder {
    /// TLS with HTTP/1.1, guarded by `limits`.
    static func guardedHTTP1(tls: TLSConfiguration, limits: ConnectionLimits, listener name: String) throws -> HTTPServerBuilder {
        let listener = ListenerGuard(name: name, limits: limits)
        return HTTPServerBuilder { responder in
            let http1 = HTTP1Channel(
                responder: responder,
                configuration: .init(
                    additionalChannelHandlers: listener.requestHandlers(),
                    idleTimeout: TimeAmount(limits.idleTimeout)))
            return GuardedChildChannel(base: try TLSChannel(http1, tlsConfiguration: tls), guardState: listener)
        }
    }

    /// TLS negotiating HTTP/2 or HTTP/1.1, guarded by `limits`; an HTTP/2 connection with no open
    /// stream counts as idle.
    static func guardedHTTP2Upgrade(
        tls: TLSConfiguration, limits: ConnectionLimits, listener name: String,
        peers: PeerCertificates? = nil
    ) throws -> HTTPServerBuilder {
        let listener = ListenerGuard(name: name, limits: limits, peers: peers)
        return HTTPServerBuilder { responder in
            let configuration = HTTP2UpgradeChannel.Configuration(
                idleTimeout: limits.idleTimeout,
                // At shutdown, a connection whose client has not closed its streams 2 s after the
                // final GOAWAY is closed: held polls are answered by then, and waiting longer only
                // keeps agents from the replica (or restarted controller) that would serve them.
                gracefulCloseTimeout: .seconds(2),
                streamConfiguration: .init(additionalChannelHandlers: listener.requestHandlers(), idleTimeout: TimeAmount(limits.idleTimeout)))
            return GuardedChildChannel(
                base: try HTTP2UpgradeChannel(tlsConfiguration: tls, configuration: configuration, responder: responder),
                guardState: listener)
        }
    }
}
