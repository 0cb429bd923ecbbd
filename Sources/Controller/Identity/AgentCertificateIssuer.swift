import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import X509

/// Issues agent certificates from the controller's CA for identities the controller established
/// (enrollment or the renewing certificate), records each serial, and hands out the trust bundle.
public struct AgentCertificateIssuer: Sendable {
    public let authority: CertificateAuthority
    public let trustDomain: String
    public let lifetime: TimeInterval
    /// File of PEM CA certificates agents should trust the controller with; during a CA rotation it
    /// holds old and new. Looked at on each use, so an edited bundle reaches agents without a restart.
    public let trustBundlePath: String
    private let trustBundle: TrustBundleFile

    public init(authority: CertificateAuthority, trustDomain: String, lifetime: TimeInterval, trustBundlePath: String) {
        self.authority = authority
        self.trustDomain = trustDomain
        self.lifetime = lifetime
        self.trustBundlePath = trustBundlePath
        trustBundle = TrustBundleFile(path: trustBundlePath)
    }

    func currentTrustBundle() -> String? { trustBundle.contents }

    /// Signs the CSR for tenant/environment; refusals are `400` with the reason. Nothing is issued
    /// until `record` — so a caller can check the CSR before spending a one-time token on it.
    func sign(csr: String, tenant: String, environment: String, at now: Date) throws -> Certificate {
        let identity = SPIFFEIdentity(trustDomain: trustDomain, tenant: tenant, environment: environment)
        do {
            return try authority.signAgentCSR(pem: csr, identity: identity, lifetime: lifetime, now: now)
        } catch {
            throw APIProblem(.badRequest, "csr: \(error.description)")
        }
    }

    /// Records the certificate as issued and returns what the agent receives.
    func record(
        _ certificate: Certificate, tenant: String, environment: String, method: String, store: any IdentityStore,
        at now: Date
    ) async throws -> IssuedCertificate {
        try await store.recordCertificate(
            AgentCertificate(
                serial: certificate.serialHex, tenant: tenant, environment: environment, method: method,
                notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, revokedAt: nil),
            at: now)
        return IssuedCertificate(
            certificate: try certificate.pemString(), caBundle: currentTrustBundle() ?? authority.bundlePEM, serial: certificate.serialHex,
            notAfter: certificate.notValidAfter)
    }
}
