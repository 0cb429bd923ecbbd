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
