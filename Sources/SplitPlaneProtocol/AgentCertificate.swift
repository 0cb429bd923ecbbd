import Foundation

/// A certificate the controller issued, as operators see it.
public struct AgentCertificate: Codable, Equatable, Sendable {
    public var serial: String
    public var tenant: String
    public var environment: String
    /// `token`, `service-account` or `renewal`.
    public var method: String
    public var notBefore: Date
    public var notAfter: Date
    public var revokedAt: Date?

    public init(serial: String, tenant: String, environment: String, method: String, notBefore: Date, notAfter: Date, revokedAt: Date?) {
        self.serial = serial
        self.tenant = tenant
        self.environment = environment
        self.method = method
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revokedAt = revokedAt
    }
}
