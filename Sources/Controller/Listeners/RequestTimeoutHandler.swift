import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// Per request: once its first byte has arrived the head must be complete within `requestHeadTimeout`,
/// and the body within `requestBodyTimeout` of the head; otherwise the connection (HTTP/1.1) or stream
/// (HTTP/2) is closed. Time between requests is the idle timeout's business (`HTTP1Channel`'s and the
/// HTTP/2 connection manager's). On an HTTP/1.1 connection the first byte is seen by a small handler
/// at the front of the pipeline; an HTTP/2 stream starts with its head already complete.
final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State { case waitingForHead, readingHead, readingBody, responding }
    private let listener: ListenerGuard
    private var state = State.waitingForHead
    private var deadline: Scheduled<Void>?

    init(listener: ListenerGuard) {
        self.listener = listener
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Only a connection carries TLS; an HTTP/2 stream channel does not and needs no byte watch.
        guard (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        try? context.pipeline.syncOperations.addHandler(FirstByteHandler { loopBound.value.0.bytesArrived(loopBound.value.1) }, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func bytesArrived(_ context: ChannelHandlerContext) {
        guard state == .waitingForHead else { return }
        state = .readingHead
        arm(context, listener.limits.requestHeadTimeout, reason: "request_head_timeout")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            state = .readingBody
            arm(context, listener.limits.requestBodyTimeout, reason: "request_body_timeout")
        case .body:
            break
        case .end:
            state = .responding
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), state == .responding { state = .waitingForHead }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration, reason: String) {
        deadline?.cancel()
        let listener = self.listener
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            listener.closed(reason)
            loopBound.value.close(promise: nil)
        }
    }
}

/// Tells its owner when bytes arrive (any bytes: a request's first ones, on an idle connection).
final class FirstByteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let onRead: () -> Void

    init(onRead: @escaping () -> Void) {
        self.onRead = onRead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onRead()
        context.fireChannelRead(data)
    }
}
