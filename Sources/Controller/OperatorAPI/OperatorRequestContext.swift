import Hummingbird
import NIOCore

/// Request context of the operator listener: who is calling (set by `BearerTokenMiddleware`) and from
/// which address, for the audit log.
public struct OperatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// `token:<first 8 hex digits of the token's SHA-256>`: names a token without revealing it.
    public var actor: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var address: String? { remoteAddress?.ipAddress }
}
