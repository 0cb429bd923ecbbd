import Foundation

/// `PUT /v1/tenants/{t}/environments/{e}/service-account-trust`: how the controller recognises the
/// environment's agent by its projected Kubernetes service-account token, with no secret at all —
/// the cluster's OIDC issuer, its public keys, and the namespace and service account the agent runs as.
public struct ServiceAccountTrust: Codable, Equatable, Sendable {
    public var issuer: String
    /// The cluster's JWKS document (`{"keys": [...]}`), as served at its `jwks_uri`.
    public var jwks: JSONValue
    public var namespace: String
    public var serviceAccount: String

    public init(issuer: String, jwks: JSONValue, namespace: String, serviceAccount: String) {
        self.issuer = issuer
        self.jwks = jwks
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    public var subject: String { "system:serviceaccount:\(namespace):\(serviceAccount)" }

    /// `https://host[:port][/path]`: a host of letters, digits, '.' and '-', a numeric port, a path
    /// without whitespace (what OIDC issuers are, and what the API document promises).
    static func isIssuerURL(_ text: String) -> Bool {
        guard text.hasPrefix("https://") else { return false }
        let rest = text.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
        else { return false }
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        }
        return !path.contains { $0.isWhitespace }
    }

    public func validate() throws(ValidationError) {
        guard Self.isIssuerURL(issuer) else {
            throw ValidationError(field: "issuer", reason: "must be the cluster's https:// OIDC issuer URL (https://host[:port][/path])")
        }
        guard case .object(let document) = jwks, case .array(let keys)? = document["keys"], !keys.isEmpty else {
            throw ValidationError(field: "jwks", reason: "must be a JWKS document with a non-empty `keys` array")
        }
        for (index, key) in keys.enumerated() {
            guard case .object(let fields) = key, case .string? = fields["kty"] else {
                throw ValidationError(field: "jwks.keys[\(index)]", reason: "must be a JSON Web Key (an object with `kty`)")
            }
        }
        try ResourceName.validate(namespace, field: "namespace")
        let validName =
            !serviceAccount.isEmpty && serviceAccount.count <= 253
            && serviceAccount.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
        if !validName { throw ValidationError(field: "serviceAccount", reason: "must be a Kubernetes service account name (DNS-1123 subdomain)") }
    }
}
