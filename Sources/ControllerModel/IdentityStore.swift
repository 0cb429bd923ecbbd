import Foundation
import SplitPlaneProtocol

/// The identity half of the store: one-time enrollment tokens (hashes only), the certificates the
/// controller issued, and revocations.
public protocol IdentityStore: Sendable {
    func createEnrollmentToken(tenant: String, environment: String, tokenHash: String, expiresAt: Date, at now: Date) async throws
    /// Marks the token used if it is valid for tenant/environment, atomically: a token works once. A
    /// token presented for another environment is not used up.
    func consumeEnrollmentToken(tokenHash: String, tenant: String, environment: String, at now: Date) async throws -> EnrollmentTokenUse

    func recordCertificate(_ certificate: AgentCertificate, at now: Date) async throws
    func certificates(tenant: String, environment: String) async throws -> [AgentCertificate]
    /// Why a certificate may no longer be used, or nil: its serial revoked, or its environment revoked
    /// after it was issued (a revoked environment comes back only through a new enrollment).
    func revocation(serial: String, tenant: String, environment: String, notBefore: Date) async throws -> String?
    /// Revokes every certificate the environment holds now.
    func revokeEnvironment(tenant: String, environment: String, at now: Date) async throws
    /// Returns the certificate, now revoked; `StoreError.notFound` for a serial never issued here.
    func revokeCertificate(serial: String, at now: Date) async throws -> AgentCertificate

    /// Registers (or replaces) the service-account trust of an environment; nil removes it.
    func setServiceAccountTrust(tenant: String, environment: String, _ trust: ServiceAccountTrust?, at now: Date) async throws
    func serviceAccountTrust(tenant: String, environment: String) async throws -> ServiceAccountTrust?
}
