import Crypto
import Foundation
import SwiftASN1
import X509

/// Why a CSR was refused; the text goes back to the agent.
public struct CSRRefusal: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension CertificateAuthority {
    /// Signs an agent's CSR for `identity` — the identity the controller established, never one the CSR
    /// asks for. The CSR must be signed by its own key (proof the agent holds it), carry a P-256 key,
    /// and ask for no identity other than `identity`.
    public func signAgentCSR(pem: String, identity: SPIFFEIdentity, lifetime: TimeInterval, now: Date) throws(CSRRefusal) -> Certificate {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw CSRRefusal("csr is not a PEM certificate signing request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw CSRRefusal("the CSR is not signed by the key it carries")
        }
        guard let key = P256.Signing.PublicKey(csr.publicKey) else {
            throw CSRRefusal("the CSR's key must be ECDSA P-256")
        }
        let requested: [GeneralName]
        do {
            requested = Array(try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames ?? SubjectAlternativeNames([]))
        } catch {
            throw CSRRefusal("the CSR's extension request cannot be read")
        }
        for name in requested {
            guard case .uniformResourceIdentifier(let uri) = name, uri == identity.uri else {
                throw CSRRefusal("the CSR asks for \(name), but this enrollment is for \(identity.uri)")
            }
        }
        do {
            // Backdated for clock skew, by at most a tenth of the lifetime: agents renew at two thirds of
            // notAfter − notBefore, and a backdate longer than that would make a short certificate due at once.
            return try issueAgentCertificate(
                identity: identity, publicKey: key, notBefore: now.addingTimeInterval(-min(60, lifetime / 10)),
                notAfter: now.addingTimeInterval(lifetime))
        } catch {
            throw CSRRefusal("cannot issue: \(error)")
        }
    }

    /// Every CA certificate agents should trust, PEM.
    public var bundlePEM: String { (try? certificate.pemString()) ?? "" }
}

/// The agent side: a fresh key and a CSR naming the identity it enrolls for.
public enum AgentKeyMaterial {
    public static func csr(for identity: SPIFFEIdentity, key: P256.Signing.PrivateKey) throws -> String {
        let subject = try DistinguishedName {
            OrganizationName("Qbeast")
            CommonName("\(identity.tenant)/\(identity.environment)")
        }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames([.uniformResourceIdentifier(identity.uri)]) }
        let request = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }
}
