import Foundation

/// An alert as the controller holds it: attributed to tenant and environment from the agent's certificate.
public struct StoredAlert: Codable, Equatable, Sendable {
    public var tenant: String
    public var environment: String
    public var workspace: String
    public var fingerprint: String
    public var state: AlertState
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date
    public var endsAt: Date?
    public var value: Double?
    public var receivedAt: Date

    public init(
        tenant: String, environment: String, workspace: String, fingerprint: String, state: AlertState,
        labels: [String: String], annotations: [String: String], startsAt: Date, endsAt: Date?,
        value: Double?, receivedAt: Date
    ) {
        self.tenant = tenant
        self.environment = environment
        self.workspace = workspace
        self.fingerprint = fingerprint
        self.state = state
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.value = value
        self.receivedAt = receivedAt
    }
}
