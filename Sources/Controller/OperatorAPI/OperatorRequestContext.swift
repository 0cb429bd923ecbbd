import Hummingbird
import NIOCore

/// Request context of the operator listener: who is calling (set by `BearerTokenMiddleware`) and from
/// which address, for the audit log.
public struct OperatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by `BearerTokenMiddleware` from the verified token.
    public var principal: Principal?
    /// How the audit log names the caller.
    public var actor: String? { principal?.name }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var address: String? { remoteAddress?.ipAddress }
}
