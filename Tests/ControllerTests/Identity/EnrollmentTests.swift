import Agent
import Crypto
import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing
import X509

/// Enrollment without shared secrets: one-time tokens, CSRs for keys the agent made, refusals that
/// issue nothing, and the audit trail.
@Suite struct EnrollmentTests {
    func token(_ f: ControllerFixture, environment: String = "prod", ttl: String? = nil) async throws -> EnrollmentToken {
        let response = try await f.operatorClient.request(
            .POST, "/v1/tenants/acme/environments/\(environment)/enrollment-tokens",
            json: ttl.map { #"{"ttl":"\#($0)"}"# } ?? "{}")
        #expect(response.status == 201, "\(response.text)")
        return try response.decode(EnrollmentToken.self)
    }

    func enroll(_ f: ControllerFixture, token: String, environment: String = "prod", csr: String? = nil) async throws -> TestResponse {
        let identity = SPIFFEIdentity(trustDomain: f.pki.trustDomain, tenant: "acme", environment: environment)
        let request = EnrollmentRequest(
            tenant: "acme", environment: environment, token: token,
            csr: try csr ?? AgentKeyMaterial.csr(for: identity, key: P256.Signing.PrivateKey()))
        let client = TestHTTPClient(baseURL: f.controller.enrollURL, tls: try TLSConfigurations.operatorClient(trustBundle: f.pki.caBundle))
        defer { Task { try? await client.shutdown() } }
        return try await client.request(.POST, "/enroll/v1", encoding: request, token: nil)
    }

    func issuedCount(_ f: ControllerFixture, _ environment: String = "prod") async throws -> Int {
        try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/\(environment)/certificates").decode(ListResponse<AgentCertificate>.self).items
            .count
    }

    @Test(arguments: TestStoreKind.allCases) func anAgentWithOnlyATokenAndTheCABundleEnrollsAndConnects(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { f in
            let token = try await token(f)
            #expect(token.token.hasPrefix("qbe_") && token.token.count > 40)
            try token.token.write(toFile: f.directory.path("token"), atomically: true, encoding: .utf8)
            let state = f.directory.path("agent-state")
            let tls = try await AgentEnrollment.credentials(
                stateDirectory: state, configured: nil, caBundle: f.pki.caBundle,
                enrollment: EnrollmentSettings(url: f.controller.enrollURL, tenant: "acme", environment: "prod", tokenFile: f.directory.path("token")),
                trustDomain: f.pki.trustDomain, logger: Logger(label: "test"))
            let key = try FileManager.default.attributesOfItem(atPath: tls.privateKey)
            #expect((key[.posixPermissions] as? Int) == 0o600, "the private key is readable only by the agent")
            let certificate = try CredentialStore.certificate(tls)
            #expect(certificate.spiffeIdentity?.uri == "spiffe://\(f.pki.trustDomain)/tenant/acme/environment/prod")
            let lifetime = certificate.notValidAfter.timeIntervalSince(Date())
            #expect(lifetime > 23.9 * 3600 && lifetime <= 24 * 3600 + 1, "24 h by default")

            let agent = try TestAgent.start(tls: tls, controllerURL: f.controller.agentURL, stateDirectory: state)
            try await eventually("the enrolled agent receives its desired state") { await agent.service.desired != nil }
            try await agent.stop()
            let issued = try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod/certificates").decode(ListResponse<AgentCertificate>.self)
            #expect(issued.items.map(\.serial) == [certificate.serialHex] && issued.items.first?.method == "token")

            // Restarting finds the identity in the state directory: no second enrollment.
            let again = try await AgentEnrollment.credentials(
                stateDirectory: state, configured: nil, caBundle: f.pki.caBundle, enrollment: nil,
                trustDomain: f.pki.trustDomain, logger: Logger(label: "test"))
            #expect(again == tls)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func refusalsAreClearAndIssueNothing(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { f in
            try await f.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"dev","cloud":"aws","mode":"provided"}"#)
            let used = try await token(f)
            #expect(try await enroll(f, token: used.token).status == 201)
            let replay = try await enroll(f, token: used.token)
            #expect(replay.status == 401 && replay.problem?.detail.contains("already used") == true)

            let forDev = try await token(f, environment: "dev")
            let crossed = try await enroll(f, token: forDev.token, environment: "prod")
            #expect(crossed.status == 403 && crossed.problem?.detail.contains("another environment") == true)
            #expect(try await enroll(f, token: forDev.token, environment: "dev").status == 201, "a token shown to the wrong environment is not used up")

            let unknown = try await enroll(f, token: "qbe_not-a-real-token")
            #expect(unknown.status == 401 && unknown.problem?.detail == "the enrollment token is not valid")

            let fresh = try await token(f)
            let otherIdentity = SPIFFEIdentity(trustDomain: f.pki.trustDomain, tenant: "globex", environment: "prod")
            let asksForOther = try await enroll(f, token: fresh.token, csr: try AgentKeyMaterial.csr(for: otherIdentity, key: P256.Signing.PrivateKey()))
            #expect(asksForOther.status == 400 && asksForOther.problem?.detail.contains("asks for") == true, "\(asksForOther.text)")

            let fresh2 = try await token(f)
            let forged = try await enroll(f, token: fresh2.token, csr: try Self.csrSignedByAnotherKey(f.pki.trustDomain))
            #expect(forged.status == 400 && forged.problem?.detail.contains("not signed by the key it carries") == true, "\(forged.text)")
            let garbage = try await enroll(f, token: fresh2.token, csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----")
            #expect(garbage.status == 400)
            #expect(try await enroll(f, token: fresh2.token).status == 201, "refused CSRs did not spend the token")
            #expect(try await issuedCount(f) == 2)

            #expect(try await issuedCount(f) == 2, "only the two good enrollments issued a certificate for prod")
            #expect(try await issuedCount(f, "dev") == 1)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func expiredTokensAreRefused(_ kind: TestStoreKind) async throws {
        let clock = ManualTimeSource(now: Date())
        try await withController(store: kind, seed: .acmeProd, clock: clock) { f in
            let short = try await token(f, ttl: "1m")
            #expect(abs(short.expiresAt.timeIntervalSince(clock.now()) - 60) < 0.01)
            clock.advance(by: .seconds(61))
            let expired = try await enroll(f, token: short.token)
            #expect(expired.status == 401 && expired.problem?.detail.contains("expired") == true)
            let tooLong = try await f.operatorClient.request(.POST, "/v1/tenants/acme/environments/prod/enrollment-tokens", json: #"{"ttl":"25h"}"#)
            #expect(tooLong.status == 400 && tooLong.problem?.detail.contains("at most 24h") == true)
            #expect(try await issuedCount(f) == 0)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func theAuditLogRecordsWhoDidWhatAndNeverTheToken(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { f in
            let token = try await token(f)
            _ = try await enroll(f, token: token.token)
            _ = try await enroll(f, token: token.token)
            let audit = try await f.operatorClient.request(.GET, "/v1/audit?limit=50")
            let records = try audit.decode(ListResponse<AuditRecord>.self).items
            #expect(!audit.text.contains(token.token), "the token never appears in the audit record")
            #expect(records.first?.action == "enroll" && records.first?.result == "refused")
            #expect(records.contains { $0.action == "enroll" && $0.result == "issued" && $0.detail?.hasPrefix("method=token serial=") == true })
            let creation = try #require(records.first { $0.target == "/v1/tenants/acme/environments/prod/enrollment-tokens" })
            #expect(creation.action == "POST" && creation.result == "201" && creation.address == "127.0.0.1")
            #expect(creation.actor.hasPrefix("token:") && creation.actor.count == 14)
            #expect(records.contains { $0.target == "/v1/tenants" && $0.action == "POST" })
        }
    }

    /// A CSR whose signature was made by a key other than the one it carries.
    static func csrSignedByAnotherKey(_ trustDomain: String) throws -> String {
        let identity = SPIFFEIdentity(trustDomain: trustDomain, tenant: "acme", environment: "prod")
        let genuine = try CertificateSigningRequest(pemEncoded: try AgentKeyMaterial.csr(for: identity, key: P256.Signing.PrivateKey()))
        let other = try CertificateSigningRequest(pemEncoded: try AgentKeyMaterial.csr(for: identity, key: P256.Signing.PrivateKey()))
        let forged = try CertificateSigningRequest(
            version: genuine.version, subject: genuine.subject, publicKey: genuine.publicKey,
            attributes: genuine.attributes, signatureAlgorithm: genuine.signatureAlgorithm,
            signature: other.signature)
        return try forged.serializeAsPEM().pemString
    }
}
