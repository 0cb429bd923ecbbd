import Foundation

/// What the agent reports of support access (`agent.supportAccess` in the status): the customer's
/// switch as the agent enforces it, what it verified in the namespace, and Qbeast's open request.
public struct SupportAccessStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// Not granted (the default).
        case off = "Off"
        /// Granted by the customer until `until`.
        case granted = "Granted"
        /// Was granted; `until` has passed and the agent closed it by itself.
        case expired = "Expired"
    }

    public var state: State
    public var until: Date?
    /// Whether the OIDC proxy (Deployment or Service) exists in the namespace, as last verified.
    public var proxyPresent: Bool
    /// Qbeast's request the agent has shown the customer (an Event and this field), if one is open.
    public var request: SupportAccessRequest?
    /// The last attempt the agent refused to let the controller's desired state open access, if any.
    public var refused: String?

    public init(state: State, until: Date? = nil, proxyPresent: Bool, request: SupportAccessRequest? = nil, refused: String? = nil) {
        self.state = state
        self.until = until
        self.proxyPresent = proxyPresent
        self.request = request
        self.refused = refused
    }
}
