import Crypto
import Foundation
import SplitPlaneProtocol
import SwiftASN1
import X509

/// A small ECDSA P-256 certificate authority: issues the controller's server certificate and
/// agents' client certificates carrying their SPIFFE identity.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    // Kept as raw bytes: swift-crypto's key type is not Sendable, and the CA is shared across tasks.
    private let privateKeyBytes: Data

    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKeyBytes = privateKey.rawRepresentation
    }

    private var privateKey: P256.Signing.PrivateKey {
        // The bytes came from a valid key in `init`, so they always decode.
        try! P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
    }

    /// Makes a new self-signed CA.
    public static func create(commonName: String, validFor lifetime: TimeInterval, now: Date = Date()) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Qbeast")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(lifetime),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Loads a CA from its PEM certificate and PEM (PKCS#8 or SEC1) P-256 key.
    public static func load(certificatePEM: String, privateKeyPEM: String) throws -> CertificateAuthority {
        CertificateAuthority(
            certificate: try Certificate(pemEncoded: certificatePEM),
            privateKey: try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        )
    }

    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// Issues a TLS server certificate for the given DNS names and IP addresses.
    public func issueServerCertificate(
        commonName: String, dnsNames: [String], ipAddresses: [[UInt8]],
        publicKey: P256.Signing.PublicKey, validFor lifetime: TimeInterval,
        now: Date = Date()
    ) throws -> Certificate {
        let names =
            dnsNames.map { GeneralName.dnsName($0) }
            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        return try issue(
            commonName: commonName, sans: names, usage: .serverAuth, publicKey: publicKey,
            notBefore: now.addingTimeInterval(-300), notAfter: now.addingTimeInterval(lifetime))
    }

    /// Issues an agent client certificate whose only identity is its SPIFFE URI SAN.
    public func issueAgentCertificate(
        identity: SPIFFEIdentity, publicKey: P256.Signing.PublicKey,
        notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        try issue(
            commonName: "\(identity.tenant)/\(identity.environment)",
            sans: [.uniformResourceIdentifier(identity.uri)], usage: .clientAuth, publicKey: publicKey,
            notBefore: notBefore, notAfter: notAfter)
    }

    /// Issues a certificate with exactly the given SANs; the typed issuers above are what production
    /// uses, this is for tests that need certificates a well-behaved CA would not make.
    public func issue(
        commonName: String, sans: [GeneralName], usage: ExtendedKeyUsage.Usage,
        publicKey: P256.Signing.PublicKey, notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("Qbeast")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([usage])
            SubjectAlternativeNames(sans)
            AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
        }
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(privateKey)
        )
    }
}

extension Certificate {
    public func pemString() throws -> String { try serializeAsPEM().pemString }

    /// The SPIFFE identity in the certificate's URI SANs, if it has exactly one agent-shaped one.
    public var spiffeIdentity: SPIFFEIdentity? { try? agentIdentity() }

    /// The agent identity, as an X.509-SVID carries it: exactly one URI SAN, a valid SPIFFE ID of the
    /// agent shape. Anything else — no URI, two URIs (even if one is valid), a malformed ID — is refused.
    public func agentIdentity() throws(SPIFFEIDError) -> SPIFFEIdentity {
        let sans: SubjectAlternativeNames?
        do {
            sans = try extensions.subjectAlternativeNames
        } catch {
            throw SPIFFEIDError("the certificate's subject alternative names cannot be read")
        }
        let uris = (sans.map(Array.init) ?? []).compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri }
            return nil
        }
        guard uris.count == 1 else {
            throw SPIFFEIDError(
                uris.isEmpty
                    ? "the certificate has no URI SAN; an agent certificate carries its SPIFFE ID as its only URI SAN"
                    : "the certificate has \(uris.count) URI SANs; an agent certificate carries exactly one, its SPIFFE ID")
        }
        do {
            return try SPIFFEIdentity.parse(uris[0])
        } catch {
            throw SPIFFEIDError("the URI SAN \"\(uris[0].prefix(200))\" \(error.reason)")
        }
    }

    /// Serial number as lowercase hex without separators, the form stored and shown everywhere.
    public var serialHex: String {
        Hex.encode(serialNumber.bytes)
    }
}
