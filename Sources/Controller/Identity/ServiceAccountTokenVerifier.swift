import Foundation
import JWTKit
import SplitPlaneProtocol

/// Verifies a projected Kubernetes service-account token against the trust registered for its
/// environment: signature by a key of the cluster's JWKS (RS256 or ES256; `alg: none` never
/// verifies), `iss`, `aud` (the controller's audience), `exp`/`nbf` with a minute of skew, and
/// `sub == system:serviceaccount:<namespace>:<service account>`. Every refusal says which check failed.
struct ServiceAccountTokenVerifier: Sendable {
    let audience: String
    static let skew: TimeInterval = 60

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?

        // Time and identity checks happen in `verify(_:trust:at:)` on the controller's clock.
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    func verify(_ token: String, trust: ServiceAccountTrust, at now: Date) async throws(APIProblem) {
        let keys = JWTKeyCollection()
        do {
            let jwks = String(decoding: try StrictJSON.encode(trust.jwks), as: UTF8.self)
            try await keys.add(jwksJSON: jwks)
        } catch {
            throw APIProblem(.unauthorized, "the environment's registered JWKS cannot be used: \(error)")
        }
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            throw APIProblem(.unauthorized, "the service-account token's signature does not verify with the environment's JWKS")
        }
        guard claims.iss.value == trust.issuer else {
            throw APIProblem(.unauthorized, "the service-account token's issuer \"\(claims.iss.value)\" is not the environment's \"\(trust.issuer)\"")
        }
        guard claims.aud.value.contains(audience) else {
            throw APIProblem(.unauthorized, "the service-account token's audience \(claims.aud.value) does not include \"\(audience)\"")
        }
        guard claims.exp.value.addingTimeInterval(Self.skew) > now else { throw APIProblem(.unauthorized, "the service-account token has expired") }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-Self.skew) > now {
            throw APIProblem(.unauthorized, "the service-account token is not valid yet")
        }
        guard claims.sub.value == trust.subject else {
            throw APIProblem(.unauthorized, "the service-account token is for \"\(claims.sub.value)\", not \"\(trust.subject)\"")
        }
    }
}
