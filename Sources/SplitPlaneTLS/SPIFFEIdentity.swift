import SplitPlaneProtocol

/// The identity an agent certificate carries as its URI SAN:
/// `spiffe://<trust-domain>/tenant/<tenant>/environment/<environment>`.
public struct SPIFFEIdentity: Hashable, Sendable, CustomStringConvertible {
    public var trustDomain: String
    public var tenant: String
    public var environment: String

    public init(trustDomain: String, tenant: String, environment: String) {
        self.trustDomain = trustDomain
        self.tenant = tenant
        self.environment = environment
    }

    public var uri: String { "spiffe://\(trustDomain)/tenant/\(tenant)/environment/\(environment)" }
    public var description: String { uri }

    /// Parses a SPIFFE URI; nil unless it has exactly the agent shape with valid names.
    public init?(uri: String) {
        guard uri.hasPrefix("spiffe://") else { return nil }
        let parts = uri.dropFirst("spiffe://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, !parts[0].isEmpty, parts[1] == "tenant", parts[3] == "environment",
              ResourceName.isValid(parts[2]), ResourceName.isValid(parts[4]) else { return nil }
        self.init(trustDomain: parts[0].lowercased(), tenant: parts[2], environment: parts[4])
    }
}
