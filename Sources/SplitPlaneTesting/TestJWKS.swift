import Crypto
import Foundation
import SplitPlaneProtocol

/// The JSON Web Key Set publishing one ES256 key, as an identity provider or a cluster's
/// service-account issuer serves it.
public enum TestJWKS {
    public static func document(for key: P256.Signing.PrivateKey, kid: String) -> JSONValue {
        let raw = key.publicKey.x963Representation
        func b64(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        return [
            "keys": [
                [
                    "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": .string(kid),
                    "x": .string(b64(raw.subdata(in: 1..<33))), "y": .string(b64(raw.subdata(in: 33..<65))),
                ]
            ]
        ]
    }
}
