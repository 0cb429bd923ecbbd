import Foundation
import Hummingbird
import NIOCore
import SplitPlaneTLS

/// Request context of the agent gateway: keeps the connection's channel so the verified client
/// certificate can be read, and the identity taken from it.
public struct AgentRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    /// Set by `AgentIdentityMiddleware` from the verified certificate, never from the request.
    public var identity: AgentIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Who is calling the agent gateway, as proven by its certificate.
public struct AgentIdentity: Sendable, Equatable {
    public var tenant: String
    public var environment: String
    public var certificateSerial: String
    public var certificateNotBefore: Date
    /// The TLS connection the request came on (numbered by the listener), for what is remembered per connection.
    public var connection: UInt64

    public var notifierKey: DesiredStateNotifier.Key { .init(tenant: tenant, environment: environment) }
}
