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
    /// PEM CA certificates the agent should trust for the controller; during a CA rotation, old and new.
    public let trustBundle: String

    public init(authority: CertificateAuthority, trustDomain: String, lifetime: TimeInterval, trustBundle: String) {
        self.authority = authority
        self.trustDomain = trustDomain
        self.lifetime = lifetime
        self.trustBundle = trustBundle
    }

    /// Signs the CSR for tenant/environment and records it; refusals are `400` with the reason.
    func issue(csr: String, tenant: String, environment: String, method: String, store: any ControllerStore,
               at now: Date) async throws -> IssuedCertificate {
        let identity = SPIFFEIdentity(trustDomain: trustDomain, tenant: tenant, environment: environment)
        let certificate: Certificate
        do {
            certificate = try authority.signAgentCSR(pem: csr, identity: identity, lifetime: lifetime, now: now)
        } catch {
            throw APIProblem(.badRequest, "csr: \(error.description)")
        }
        try await store.recordCertificate(AgentCertificate(serial: certificate.serialHex, tenant: tenant, environment: environment, method: method,
                                                           notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, revokedAt: nil),
                                          at: now)
        return IssuedCertificate(certificate: try certificate.pemString(), caBundle: trustBundle, serial: certificate.serialHex,
                                 notAfter: certificate.notValidAfter)
    }
}
