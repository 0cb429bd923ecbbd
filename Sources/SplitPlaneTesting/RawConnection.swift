import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A connection a test drives byte by byte — to play the slow, silent or half-finished client that
/// well-behaved HTTP clients never are. Plain TCP (`tls: nil`) or TLS (with a client certificate if
/// the configuration has one).
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let closed: EventLoopFuture<Void>
    /// Completes when the TLS handshake did (at once for plain TCP); fails if the connection ends first.
    public let handshake: EventLoopFuture<Void>

    public static func connect(port: Int, tls: TLSConfiguration?, serverName: String = "localhost") async throws -> RawConnection {
        let group = MultiThreadedEventLoopGroup.singleton
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let loop = group.next()
        let closedPromise = loop.makePromise(of: Void.self)
        let handshakePromise = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                    } else {
                        handshakePromise.succeed()
                    }
                    try channel.pipeline.syncOperations.addHandler(Watcher(closed: closedPromise, handshake: handshakePromise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, closed: closedPromise.futureResult, handshake: handshakePromise.futureResult)
    }

    private init(channel: any Channel, closed: EventLoopFuture<Void>, handshake: EventLoopFuture<Void>) {
        self.channel = channel
        self.closed = closed
        self.handshake = handshake
    }

    public func write(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// How long until the server closed the connection, or nil if it is still open after `timeout`.
    public func closedBy(_ timeout: Duration) async -> Duration? {
        let started = ContinuousClock.now
        let loop = channel.eventLoop
        let closed = self.closed
        // Everything below runs on the connection's event loop, so the first outcome wins without a lock.
        let result: Bool = await withCheckedContinuation { continuation in
            loop.execute {
                var resumed = false
                let scheduled = loop.scheduleTask(in: TimeAmount(timeout)) {
                    if !resumed { resumed = true; continuation.resume(returning: false) }
                }
                closed.whenComplete { _ in
                    scheduled.cancel()
                    if !resumed { resumed = true; continuation.resume(returning: true) }
                }
            }
        }
        return result ? ContinuousClock.now - started : nil
    }

    public func close() async {
        try? await channel.close().get()
    }

    private final class Watcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closed: EventLoopPromise<Void>
        let handshake: EventLoopPromise<Void>

        init(closed: EventLoopPromise<Void>, handshake: EventLoopPromise<Void>) {
            self.closed = closed
            self.handshake = handshake
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { handshake.succeed() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            handshake.fail(ChannelError.ioOnClosedChannel)
            closed.succeed()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
