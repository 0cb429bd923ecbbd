import Crypto
import Foundation
import SplitPlaneTLS
import X509

/// A throwaway PKI in a temporary directory: the controller's CA and server certificate, agent
/// certificates for two tenants, and the bad ones tests need (other CA, expired).
public struct TestPKI: Sendable {
    public let directory: URL
    public let trustDomain = "qbeast.test"

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-pki-\(UUID().uuidString.prefix(8))")
        let pki = DevPKI(directory: directory, trustDomain: trustDomain)
        try pki.generate(agents: [
            .init(tenant: "acme", environment: "prod"), .init(tenant: "globex", environment: "staging"),
            .init(tenant: "acme", environment: "unregistered"),
        ])
        let ca = try CertificateAuthority.load(
            certificatePEM: String(contentsOf: file("ca.pem"), encoding: .utf8),
            privateKeyPEM: String(contentsOf: file("ca-key.pem"), encoding: .utf8))
        let now = Date()
        // Expired a minute ago, otherwise perfect.
        try writeAgent(
            ca: ca, name: "expired", identity: .init(trustDomain: trustDomain, tenant: "acme", environment: "prod"),
            notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-60))
        // Right identity, wrong issuer.
        let other = try CertificateAuthority.create(commonName: "someone else's CA", validFor: 86_400)
        try writeAgent(
            ca: other, name: "other-ca", identity: .init(trustDomain: trustDomain, tenant: "acme", environment: "prod"),
            notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(3600))
        // Right issuer, foreign trust domain.
        try writeAgent(
            ca: ca, name: "foreign-domain", identity: .init(trustDomain: "elsewhere.test", tenant: "acme", environment: "prod"),
            notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(3600))
    }

    public func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    public var caBundle: String { file("ca.pem").path }
    /// The CA the test controller issues agent certificates from.
    public var issuingCA: (certificate: String, privateKey: String) { (file("ca.pem").path, file("ca-key.pem").path) }

    public var serverTLS: TLSFiles {
        TLSFiles(certificate: file("controller.pem").path, privateKey: file("controller-key.pem").path, trustBundle: caBundle)
    }

    /// Client TLS files for `agent-<name>.pem` (e.g. `acme-prod`, `globex-staging`, `expired`, `other-ca`).
    public func agentTLS(_ name: String) -> TLSFiles {
        TLSFiles(certificate: file("agent-\(name).pem").path, privateKey: file("agent-\(name)-key.pem").path, trustBundle: caBundle)
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Writes `agent-<name>.pem` from the test CA with exactly `uris` as URI SANs: the certificates a
    /// hostile or broken issuer might present (two URIs, an uppercase trust domain, …).
    public func writeAgent(name: String, uris: [String]) throws {
        let ca = try CertificateAuthority.load(
            certificatePEM: String(contentsOf: file("ca.pem"), encoding: .utf8),
            privateKeyPEM: String(contentsOf: file("ca-key.pem"), encoding: .utf8))
        let key = P256.Signing.PrivateKey()
        let certificate = try ca.issue(
            commonName: name, sans: uris.map { .uniformResourceIdentifier($0) }, usage: .clientAuth,
            publicKey: key.publicKey, notBefore: Date().addingTimeInterval(-60), notAfter: Date().addingTimeInterval(3600))
        try key.pemRepresentation.write(to: file("agent-\(name)-key.pem"), atomically: false, encoding: .utf8)
        try certificate.pemString().write(to: file("agent-\(name).pem"), atomically: false, encoding: .utf8)
    }

    private func writeAgent(ca: CertificateAuthority, name: String, identity: SPIFFEIdentity, notBefore: Date, notAfter: Date) throws {
        let key = P256.Signing.PrivateKey()
        let certificate = try ca.issueAgentCertificate(identity: identity, publicKey: key.publicKey, notBefore: notBefore, notAfter: notAfter)
        try key.pemRepresentation.write(to: file("agent-\(name)-key.pem"), atomically: false, encoding: .utf8)
        try certificate.pemString().write(to: file("agent-\(name).pem"), atomically: false, encoding: .utf8)
    }
}
