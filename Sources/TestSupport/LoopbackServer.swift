import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import ServiceSupport

/// A Hummingbird router served on a free 127.0.0.1 port for a test; `start` returns once it accepts
/// connections. The test servers standing in for peers are built on it.
public struct LoopbackServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public static func start(_ router: Router<BasicRequestContext>, label: String) async -> LoopbackServer {
        let ports = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .bounded([app], limit: .seconds(10), logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        return LoopbackServer(port: await iterator.next() ?? 0, group: group, task: task)
    }

    /// The same over TLS (HTTP/1.1), for clients that only send credentials to an https:// server.
    public static func startTLS(_ router: Router<BasicRequestContext>, label: String, tls: TLSConfiguration) async throws -> LoopbackServer {
        let ports = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .bounded([app], limit: .seconds(10), logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        return LoopbackServer(port: await iterator.next() ?? 0, group: group, task: task)
    }

    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
