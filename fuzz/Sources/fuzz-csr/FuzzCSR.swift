import Foundation
import SplitPlaneTLS

/// Renewal and enrollment hand the CA a CSR from the other side: any bytes (as PEM, and as DER
/// wrapped in PEM) are refused with a reason or signed for the identity the controller chose.
let authority = try! CertificateAuthority.create(commonName: "fuzz CA", validFor: 86_400)
let identity = SPIFFEIdentity(trustDomain: "qbeast.dev", tenant: "acme", environment: "prod")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let asText = String(decoding: bytes, as: UTF8.self)
    let asDER = "-----BEGIN CERTIFICATE REQUEST-----\n\(bytes.base64EncodedString(options: .lineLength64Characters))\n-----END CERTIFICATE REQUEST-----\n"
    for pem in [asText, asDER] {
        if let certificate = try? authority.signAgentCSR(pem: pem, identity: identity, lifetime: 3600, now: Date()),
            certificate.spiffeIdentity != identity
        {
            fatalError("signed a certificate for another identity")
        }
    }
    return 0
}
