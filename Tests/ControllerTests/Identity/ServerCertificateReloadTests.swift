import Crypto
import Foundation
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// The controller serves a rotated server certificate without a restart.
@Suite struct ServerCertificateReloadTests {
    @Test func aReplacedCertificateIsServedToNewConnections() async throws {
        try await withController { fixture in
            let (pki, directory, controller) = (fixture.pki, fixture.directory, fixture.controller)
            let newCA = try CertificateAuthority.create(commonName: "rotated CA", validFor: 86_400)
            try newCA.certificate.pemString().write(toFile: directory.path("new-ca.pem"), atomically: true, encoding: .utf8)
            let trustingNewCA = TestHTTPClient(
                baseURL: controller.operatorURL, tls: try TLSConfigurations.operatorClient(trustBundle: directory.path("new-ca.pem")))
            await #expect(throws: (any Error).self, "the old certificate does not chain to the new CA") {
                try await trustingNewCA.request(.GET, "/v1/tenants")
            }
            try await trustingNewCA.shutdown()

            let key = P256.Signing.PrivateKey()
            let certificate = try newCA.issueServerCertificate(
                commonName: "controller", dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]],
                publicKey: key.publicKey, validFor: 3600)
            // Key first, then certificate, as a Secret update would land; a handshake in between keeps the old pair.
            try key.pemRepresentation.write(toFile: pki.serverTLS.privateKey, atomically: true, encoding: .utf8)
            try certificate.pemString().write(toFile: pki.serverTLS.certificate, atomically: true, encoding: .utf8)

            let after = TestHTTPClient(baseURL: controller.operatorURL, tls: try TLSConfigurations.operatorClient(trustBundle: directory.path("new-ca.pem")))
            try await eventually("the new certificate is served") { (try? await after.request(.GET, "/v1/tenants"))?.status == 200 }
            try await after.shutdown()
        }
    }
}
