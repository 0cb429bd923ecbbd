import Foundation

/// An agent was heard from (a heartbeat that changed nothing), to be written with others later.
public struct AgentSighting: Sendable, Equatable {
    public var tenant: String
    public var environment: String
    public var at: Date

    public init(tenant: String, environment: String, at: Date) {
        self.tenant = tenant
        self.environment = environment
        self.at = at
    }
}
