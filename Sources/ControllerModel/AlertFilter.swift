import Foundation
import SplitPlaneProtocol

public struct AlertFilter: Sendable, Equatable {
    public var tenant: String?
    public var environment: String?
    public var state: AlertState?

    public init(tenant: String? = nil, environment: String? = nil, state: AlertState? = nil) {
        self.tenant = tenant
        self.environment = environment
        self.state = state
    }
}
