import Crypto
import Foundation
import JWTKit
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Controller

/// Support staff sign in with JWTs from the company's identity provider; a claim maps to the role.
@Suite struct OIDCSignInTests {
    static let issuer = "https://login.qbeast.example"
    static let audience = "qbeast-controller"

    /// A stand-in for the identity provider: ES256 keys, their JWKS, and signed tokens.
    struct IdentityProvider {
        var key = P256.Signing.PrivateKey()
        var kid = "idp-key-1"

        var jwks: JSONValue { TestJWKS.document(for: key, kid: kid) }

        struct Claims: JWTPayload {
            var iss: IssuerClaim
            var sub: SubjectClaim
            var aud: AudienceClaim
            var exp: ExpirationClaim
            var email: String
            var groups: [String]
            func verify(using algorithm: some JWTAlgorithm) throws {}
        }

        func token(
            groups: [String], email: String = "alice@qbeast.example", issuer: String = OIDCSignInTests.issuer,
            audience: String = OIDCSignInTests.audience, expires: Date = Date().addingTimeInterval(600)
        ) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: try ES256PrivateKey(backing: key), kid: JWKIdentifier(string: kid))
            return try await keys.sign(
                Claims(
                    iss: .init(value: issuer), sub: .init(value: "user-123"), aud: .init(value: [audience]),
                    exp: .init(value: expires), email: email, groups: groups), kid: JWKIdentifier(string: kid))
        }
    }

    /// A controller trusting `provider`'s keys, read from a JWKS file the rotation test rewrites (kept
    /// apart from the fixture's directory, which does not exist before the controller starts), with
    /// tenants acme and globex.
    func withSignIn(_ body: (TestHTTPClient, IdentityProvider, String) async throws -> Void) async throws {
        let keys = try TemporaryDirectory()
        defer { keys.remove() }
        let provider = IdentityProvider()
        let jwksFile = keys.path("jwks.json")
        try StrictJSON.encode(provider.jwks).write(to: URL(fileURLWithPath: jwksFile))
        var settings = OIDCSettings(issuer: Self.issuer, audience: Self.audience, keys: .file(jwksFile))
        settings.roleMappings = try ["qbeast-sre=admin", "qbeast-support=operator", "acme-analysts=viewer:acme"].map(OIDCSettings.RoleMapping.init(parsing:))
        try await withController(oidc: settings) { fixture in
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"globex"}"#)
            try await body(fixture.operatorClient, provider, jwksFile)
        }
    }

    @Test func mappedGroupsGiveRoles() async throws {
        try await withSignIn { api, provider, _ in
            let sre = try await provider.token(groups: ["everyone", "qbeast-sre"])
            #expect(try await api.request(.GET, "/v1/tokens", token: sre).status == 200)
            let support = try await provider.token(groups: ["qbeast-support"], email: "bob@qbeast.example")
            #expect(try await api.request(.GET, "/v1/tokens", token: support).status == 403)
            #expect(try await api.request(.POST, "/v1/tenants", json: #"{"name":"initech"}"#, token: support).status == 201)
            let analyst = try await provider.token(groups: ["acme-analysts"])
            #expect(try await api.request(.GET, "/v1/tenants/acme", token: analyst).status == 200)
            #expect(try await api.request(.GET, "/v1/tenants/globex", token: analyst).status == 404)
            #expect(try await api.request(.DELETE, "/v1/tenants/acme", token: analyst).status == 403)
            // The strongest mapped role wins.
            let both = try await provider.token(groups: ["acme-analysts", "qbeast-support"])
            #expect(try await api.request(.GET, "/v1/tenants/globex", token: both).status == 200)

            let audit = try await api.request(.GET, "/v1/audit?limit=50").text
            #expect(audit.contains("oidc:bob@qbeast.example"))
        }
    }

    @Test func everyRefusalSaysWhichCheckFailed() async throws {
        try await withSignIn { api, provider, _ in
            let stranger = IdentityProvider(kid: "idp-key-1")
            let cases: [(String, Int, String)] = [
                (try await provider.token(groups: ["qbeast-sre"], expires: Date().addingTimeInterval(-3600)), 401, "expired"),
                (try await provider.token(groups: ["qbeast-sre"], audience: "someone-else"), 401, "audience"),
                (try await provider.token(groups: ["qbeast-sre"], issuer: "https://evil.example"), 401, "issuer"),
                (try await stranger.token(groups: ["qbeast-sre"]), 401, "signature"),
                (try await provider.token(groups: ["marketing"]), 403, "no API role maps"),
                (try await Self.unsigned(from: provider.token(groups: ["qbeast-sre"])), 401, "signature"),
            ]
            for (token, status, words) in cases {
                let response = try await api.request(.GET, "/v1/tenants", token: token)
                #expect(response.status == status, "\(words)")
                #expect(response.text.contains(words), "\(response.text)")
            }
        }
    }

    /// The same claims with `alg: none` and no signature.
    static func unsigned(from token: String) -> String {
        let payload = token.split(separator: ".")[1]
        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return "\(header).\(payload)."
    }

    @Test func rotatedProviderKeysAreFetchedAgain() async throws {
        try await withSignIn { api, _, jwksFile in
            // The provider rotates to a new key; its JWKS now publishes it, and the controller rereads it on first sight.
            let rotated = IdentityProvider(kid: "idp-key-2")
            try StrictJSON.encode(rotated.jwks).write(to: URL(fileURLWithPath: jwksFile))
            let token = try await rotated.token(groups: ["qbeast-sre"])
            #expect(try await api.request(.GET, "/v1/tenants", token: token).status == 200)
        }
    }

    @Test func keysFromTheProvidersJWKSURL() async throws {
        let provider = IdentityProvider()
        let rotated = IdentityProvider(kid: "idp-key-2")
        let jwks = try await WebhookTestServer.start()
        let document = { (p: IdentityProvider) in
            WebhookTestServer.Answer(
                status: 200, headers: ["Content-Type": "application/json"],
                body: String(decoding: try! StrictJSON.encode(p.jwks), as: UTF8.self))
        }
        // At start, then after the provider rotated its key.
        jwks.script([document(provider), document(rotated)])
        var settings = OIDCSettings(issuer: Self.issuer, audience: Self.audience, keys: .url(jwks.url("/.well-known/jwks.json")))
        settings.roleClaim = "groups"
        let verifier = OIDCVerifier(settings: settings)
        try await verifier.load()
        let admin = try await verifier.principal(for: try await provider.token(groups: ["admin"]), at: Date())
        #expect(admin == Principal(name: "oidc:alice@qbeast.example", role: .admin, tenant: nil))
        let viewer = try await verifier.principal(for: try await rotated.token(groups: ["viewer:acme"]), at: Date())
        #expect(viewer.role == .viewer && viewer.tenant == "acme")
        try await jwks.stop()
    }

    @Test func roleMappingsAreChecked() throws {
        #expect(throws: ValidationError.self) { try OIDCSettings.RoleMapping(parsing: "team=viewer") }
        #expect(throws: ValidationError.self) { try OIDCSettings.RoleMapping(parsing: "team=admin:acme") }
        #expect(throws: ValidationError.self) { try OIDCSettings.RoleMapping(parsing: "team=root") }
        #expect(throws: ValidationError.self) { try OIDCSettings.RoleMapping(parsing: "admin") }
        let mapping = try OIDCSettings.RoleMapping(parsing: "acme=editor:acme")
        #expect(mapping.role == .editor && mapping.tenant == "acme" && mapping.claimValue == "acme")
    }
}
