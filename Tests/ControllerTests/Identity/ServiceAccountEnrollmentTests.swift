import Agent
import Crypto
import Foundation
import JWTKit
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// Enrollment with no secret at all: the pod's projected service-account token, verified against the
/// customer cluster's JWKS registered for the environment.
@Suite struct ServiceAccountEnrollmentTests {
    static let issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/CLUSTER1"

    /// A stand-in for the cluster's service-account issuer: an ES256 key, its JWKS, and tokens.
    struct ClusterIssuer {
        let key = P256.Signing.PrivateKey()
        let kid = "cluster-key-1"

        var jwks: JSONValue { TestJWKS.document(for: key, kid: kid) }

        struct Claims: JWTPayload {
            var iss: IssuerClaim
            var sub: SubjectClaim
            var aud: AudienceClaim
            var exp: ExpirationClaim
            var nbf: NotBeforeClaim
            func verify(using algorithm: some JWTAlgorithm) throws {}
        }

        func token(
            issuer: String = ServiceAccountEnrollmentTests.issuer, subject: String = "system:serviceaccount:qbeast:qbeast-agent",
            audience: String = "qbeast-controller", expires: Date = Date().addingTimeInterval(600), kid: String? = nil
        ) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: try ES256PrivateKey(backing: key), kid: JWKIdentifier(string: kid ?? self.kid))
            return try await keys.sign(
                Claims(
                    iss: .init(value: issuer), sub: .init(value: subject), aud: .init(value: [audience]),
                    exp: .init(value: expires), nbf: .init(value: Date().addingTimeInterval(-5))),
                kid: JWKIdentifier(string: kid ?? self.kid))
        }
    }

    /// acme/prod trusting the service-account tokens of `cluster`, a fresh issuer per test.
    func withClusterTrust(_ body: (ControllerFixture, ClusterIssuer) async throws -> Void) async throws {
        try await withController(seed: .acmeProd) { fixture in
            let cluster = ClusterIssuer()
            let trust = ServiceAccountTrust(issuer: Self.issuer, jwks: cluster.jwks, namespace: "qbeast", serviceAccount: "qbeast-agent")
            let registered = try await fixture.operatorClient.request(.PUT, "/v1/tenants/acme/environments/prod/service-account-trust", encoding: trust)
            #expect(registered.status == 200, "\(registered.text)")
            try await body(fixture, cluster)
        }
    }

    func enroll(_ fixture: ControllerFixture, jwt: String) async throws -> TestResponse {
        let identity = SPIFFEIdentity(trustDomain: fixture.pki.trustDomain, tenant: "acme", environment: "prod")
        let request = EnrollmentRequest(
            tenant: "acme", environment: "prod", serviceAccountToken: jwt,
            csr: try AgentKeyMaterial.csr(for: identity, key: P256.Signing.PrivateKey()))
        let client = TestHTTPClient(baseURL: fixture.controller.enrollURL, tls: try TLSConfigurations.operatorClient(trustBundle: fixture.pki.caBundle))
        defer { Task { try? await client.shutdown() } }
        return try await client.request(.POST, "/enroll/v1", encoding: request, token: nil)
    }

    @Test func anAgentWithOnlyItsProjectedTokenEnrollsAndConnects() async throws {
        try await withClusterTrust { fixture, cluster in
            let directory = fixture.directory
            try await cluster.token().write(toFile: directory.path("sa-token"), atomically: true, encoding: .utf8)
            let tls = try await AgentEnrollment.credentials(
                stateDirectory: directory.path("agent"), configured: nil, caBundle: fixture.pki.caBundle,
                enrollment: EnrollmentSettings(
                    url: fixture.controller.enrollURL, tenant: "acme", environment: "prod",
                    proof: .serviceAccountTokenFile(directory.path("sa-token"))),
                trustDomain: fixture.pki.trustDomain, logger: Logger(label: "test"))
            let agent = TestHTTPClient(baseURL: fixture.controller.agentURL, tls: try TLSConfigurations.agentClient(tls))
            #expect(try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).status == 200)
            try await agent.shutdown()
            let issued = try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod/certificates").decode(
                ListResponse<AgentCertificate>.self)
            #expect(issued.items.map(\.method) == ["service-account"])
        }
    }

    @Test func everyBadTokenIsRefusedWithItsReasonAndNothingIssued() async throws {
        try await withClusterTrust { fixture, cluster in
            let stranger = ClusterIssuer()
            let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let payload = Data(
                #"{"iss":"\#(Self.issuer)","sub":"system:serviceaccount:qbeast:qbeast-agent","aud":["qbeast-controller"],"exp":4102444800}"#.utf8
            )
            .base64EncodedString().replacingOccurrences(of: "=", with: "")
            let cases: [(String, String)] = [
                (try await cluster.token(audience: "kubernetes"), "audience"),
                (try await cluster.token(issuer: "https://evil.example"), "issuer"),
                (try await cluster.token(subject: "system:serviceaccount:default:default"), "is for \"system:serviceaccount:default:default\""),
                (try await cluster.token(expires: Date().addingTimeInterval(-120)), "expired"),
                (try await stranger.token(), "signature"),
                (try await stranger.token(kid: "unknown-key"), "signature"),
                ("\(header).\(payload).", "signature"),
                ("not-a-jwt", "signature"),
            ]
            for (jwt, reason) in cases {
                let response = try await enroll(fixture, jwt: jwt)
                #expect(response.status == 401, "\(reason): \(response.text)")
                #expect(response.problem?.detail.contains(reason) == true, "\(reason): \(response.text)")
                #expect(!response.text.contains(jwt.prefix(20)), "the token is not echoed")
            }
            let api = fixture.operatorClient
            #expect(try await api.request(.GET, "/v1/tenants/acme/environments/prod/certificates").decode(ListResponse<AgentCertificate>.self).items.isEmpty)
            let audit = try await api.request(.GET, "/v1/audit?limit=100")
            #expect(try audit.decode(ListResponse<AuditRecord>.self).items.filter { $0.action == "enroll" && $0.result == "refused" }.count == cases.count)
            for (jwt, _) in cases where jwt.count > 20 { #expect(!audit.text.contains(jwt)) }
        }
    }

    @Test func trustRegistrationIsValidated() async throws {
        try await withClusterTrust { fixture, _ in
            let api = fixture.operatorClient
            for (json, field) in [
                (#"{"issuer":"http://plain","jwks":{"keys":[{"kty":"EC"}]},"namespace":"qbeast","serviceAccount":"agent"}"#, "issuer"),
                (#"{"issuer":"https://0*","jwks":{"keys":[{"kty":"EC"}]},"namespace":"qbeast","serviceAccount":"agent"}"#, "issuer"),
                (#"{"issuer":"https://oidc.example","jwks":{"keys":[]},"namespace":"qbeast","serviceAccount":"agent"}"#, "jwks"),
                (#"{"issuer":"https://oidc.example","jwks":{"keys":[{"kty":"EC"}]},"namespace":"Qbeast","serviceAccount":"agent"}"#, "namespace"),
                (#"{"issuer":"https://oidc.example","jwks":{"keys":[{"kty":"EC"}]},"namespace":"qbeast","serviceAccount":"agent","audience":"x"}"#, "audience"),
            ] {
                let response = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/service-account-trust", json: json)
                #expect(response.status == 400 && response.problem?.detail.contains(field) == true, "\(response.text)")
            }
            #expect(
                try await api.request(.GET, "/v1/tenants/acme/environments/prod/service-account-trust").decode(ServiceAccountTrust.self).issuer == Self.issuer)
        }
    }
}
