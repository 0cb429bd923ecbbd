import Foundation

// Identity lifecycle on the wire: enrollment (no client certificate yet), renewal (over mutual TLS),
// and the operator resources that go with them.

/// `POST /enroll/v1`: the agent proves it may speak for an environment — with a one-time token or its
/// projected Kubernetes service-account token — and sends a CSR for a key it made itself.
public struct EnrollmentRequest: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "EnrollmentRequest"
    public var tenant: String
    public var environment: String
    public var token: String?
    public var serviceAccountToken: String?
    /// PEM PKCS#10 request, ECDSA P-256.
    public var csr: String

    public init(tenant: String, environment: String, token: String? = nil, serviceAccountToken: String? = nil, csr: String) {
        self.tenant = tenant
        self.environment = environment
        self.token = token
        self.serviceAccountToken = serviceAccountToken
        self.csr = csr
    }

    public func validate() throws(ValidationError) {
        try validateKind(apiVersion: apiVersion, kind: kind, expected: "EnrollmentRequest")
        try ResourceName.validate(tenant, field: "tenant")
        try ResourceName.validate(environment, field: "environment")
        if (token == nil) == (serviceAccountToken == nil) {
            throw ValidationError(field: "token", reason: "give exactly one of `token` (one-time enrollment token) or `serviceAccountToken`")
        }
        if csr.count > 16_384 { throw ValidationError(field: "csr", reason: "at most 16384 characters") }
    }
}

/// `POST /agent/v1/certificate`: renewal over the current mutual TLS connection, with a new key.
public struct RenewalRequest: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "RenewalRequest"
    public var csr: String

    public init(csr: String) { self.csr = csr }

    public func validate() throws(ValidationError) {
        try validateKind(apiVersion: apiVersion, kind: kind, expected: "RenewalRequest")
        if csr.count > 16_384 { throw ValidationError(field: "csr", reason: "at most 16384 characters") }
    }
}

/// The answer to enrollment and renewal.
public struct IssuedCertificate: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "IssuedCertificate"
    /// PEM: the agent's certificate.
    public var certificate: String
    /// PEM: every CA the agent should trust for the controller (during a CA rotation, old and new).
    public var caBundle: String
    public var serial: String
    public var notAfter: Date

    public init(certificate: String, caBundle: String, serial: String, notAfter: Date) {
        self.certificate = certificate
        self.caBundle = caBundle
        self.serial = serial
        self.notAfter = notAfter
    }
}

/// Body of `POST /v1/tenants/{t}/environments/{e}/enrollment-tokens`.
public struct EnrollmentTokenRequest: Codable, Equatable, Sendable {
    /// Prometheus duration; default 15m, at most 24h.
    public var ttl: String?

    public init(ttl: String? = nil) { self.ttl = ttl }
}

/// A one-time enrollment token, shown once: the controller keeps only its hash.
public struct EnrollmentToken: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "EnrollmentToken"
    public var tenant: String
    public var environment: String
    public var token: String
    public var expiresAt: Date

    public init(tenant: String, environment: String, token: String, expiresAt: Date) {
        self.tenant = tenant
        self.environment = environment
        self.token = token
        self.expiresAt = expiresAt
    }
}

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

/// One audit record: who did what, when, from where, and how it ended. Never holds a secret.
public struct AuditRecord: Codable, Equatable, Sendable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var result: String
    public var address: String?
    public var detail: String?

    public init(id: Int64, at: Date, actor: String, action: String, target: String, result: String, address: String?, detail: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.result = result
        self.address = address
        self.detail = detail
    }
}

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
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else { return false }
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
        let validName = !serviceAccount.isEmpty && serviceAccount.count <= 253
            && serviceAccount.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
        if !validName { throw ValidationError(field: "serviceAccount", reason: "must be a Kubernetes service account name (DNS-1123 subdomain)") }
    }
}
