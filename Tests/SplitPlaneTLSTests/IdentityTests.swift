import Crypto
import Foundation
import SplitPlaneTLS
import SplitPlaneTesting
import Testing
import X509

@Suite struct SPIFFEIdentityTests {
    @Test func parsesAgentIdentity() throws {
        let identity = try #require(SPIFFEIdentity(uri: "spiffe://qbeast.dev/tenant/acme/environment/prod"))
        #expect(identity.tenant == "acme")
        #expect(identity.environment == "prod")
        #expect(identity.uri == "spiffe://qbeast.dev/tenant/acme/environment/prod")
    }

    @Test(arguments: [
        "https://qbeast.dev/tenant/acme/environment/prod",
        "spiffe://qbeast.dev/tenant/acme",
        "spiffe://qbeast.dev/tenant/Acme/environment/prod",
        "spiffe://qbeast.dev/tenant/acme/environment/prod/extra",
        "spiffe:///tenant/acme/environment/prod",
        "spiffe://qbeast.dev/environment/prod/tenant/acme",
    ])
    func refusesOtherShapes(_ uri: String) {
        #expect(SPIFFEIdentity(uri: uri) == nil)
    }
}

@Suite struct CertificateAuthorityTests {
    @Test func agentCertificateCarriesItsIdentityAndChainsToTheCA() throws {
        let ca = try CertificateAuthority.create(commonName: "test", validFor: 3600)
        let key = P256.Signing.PrivateKey()
        let identity = SPIFFEIdentity(trustDomain: "qbeast.test", tenant: "acme", environment: "prod")
        let now = Date()
        let certificate = try ca.issueAgentCertificate(
            identity: identity, publicKey: key.publicKey,
            notBefore: now, notAfter: now.addingTimeInterval(86_400))
        #expect(certificate.spiffeIdentity == identity)
        #expect(certificate.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(try certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test func caSurvivesPEMRoundTrip() throws {
        let ca = try CertificateAuthority.create(commonName: "test", validFor: 3600)
        let loaded = try CertificateAuthority.load(certificatePEM: ca.certificate.pemString(), privateKeyPEM: ca.privateKeyPEM)
        #expect(loaded.certificate == ca.certificate)
    }

    @Test func devPKIWritesKeysPrivately() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let attributes = try FileManager.default.attributesOfItem(atPath: pki.file("agent-acme-prod-key.pem").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let certificate = try Certificate(pemEncoded: String(contentsOf: pki.file("agent-acme-prod.pem"), encoding: .utf8))
        #expect(certificate.spiffeIdentity?.tenant == "acme")
    }
}
