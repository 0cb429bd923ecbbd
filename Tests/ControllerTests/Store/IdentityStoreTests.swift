import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The identity half of the store alone: enrollment tokens, issued certificates, revocation and
/// service-account trust. The same expectations on SQLite and PostgreSQL.
@Suite struct IdentityStoreTests {
    func certificate(_ serial: String, environment: String = "prod", notBefore: Date, revokedAt: Date? = nil) -> AgentCertificate {
        AgentCertificate(
            serial: serial, tenant: "acme", environment: environment, method: "token", notBefore: notBefore,
            notAfter: notBefore.addingTimeInterval(86_400), revokedAt: revokedAt)
    }

    @Test(arguments: TestStoreKind.allCases) func anEnrollmentTokenWorksOnceForItsOwnEnvironmentUntilItExpires(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            try await addEnvironment(store, tenant: "beta", "prod")
            try await store.createEnrollmentToken(tenant: "acme", environment: "prod", tokenHash: "e1", expiresAt: t(60), at: t(0))
            try await store.createEnrollmentToken(tenant: "acme", environment: "prod", tokenHash: "e2", expiresAt: t(60), at: t(0))

            #expect(try await store.consumeEnrollmentToken(tokenHash: "nope", tenant: "acme", environment: "prod", at: t(1)) == .unknown)
            // Presented for another environment, or the same name in another tenant: refused, and not used up.
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "dev", at: t(1)) == .otherEnvironment)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "beta", environment: "prod", at: t(1)) == .otherEnvironment)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "prod", at: t(59)) == .valid)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "prod", at: t(59)) == .alreadyUsed)
            #expect(
                try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "dev", at: t(59)) == .alreadyUsed,
                "used is what it is, wherever it is presented")
            #expect(
                try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "prod", at: t(61)) == .alreadyUsed,
                "used before it expired")

            // Expiry is exclusive, and comes before the environment check; an expired token is not used up.
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e2", tenant: "acme", environment: "prod", at: t(60)) == .expired)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e2", tenant: "acme", environment: "dev", at: t(60)) == .expired)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e2", tenant: "acme", environment: "prod", at: t(61)) == .expired)

            await expectStoreError(.notFound("tenant \"nope\" not found")) {
                try await store.createEnrollmentToken(tenant: "nope", environment: "prod", tokenHash: "e3", expiresAt: t(60), at: t(0))
            }
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e3", tenant: "nope", environment: "prod", at: t(1)) == .unknown, "nothing was stored")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func certificatesAreListedPerEnvironmentNewestIssuedFirst(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            #expect(try await store.certificates(tenant: "acme", environment: "prod").isEmpty)
            let first = certificate("0a", notBefore: t(0))
            let renewed = certificate("0c", notBefore: t(100))
            let sameTime = certificate("0b", notBefore: t(100))
            let dev = certificate("0d", environment: "dev", notBefore: t(50))
            try await store.recordCertificate(first, at: t(0))
            try await store.recordCertificate(renewed, at: t(100))
            try await store.recordCertificate(sameTime, at: t(100))
            try await store.recordCertificate(dev, at: t(50))
            #expect(
                try await store.certificates(tenant: "acme", environment: "prod") == [sameTime, renewed, first], "by issue time, newest first, then serial")
            #expect(try await store.certificates(tenant: "acme", environment: "dev") == [dev])
            #expect(try await store.certificates(tenant: "acme", environment: "nope").isEmpty)
            #expect(try await store.certificates(tenant: "beta", environment: "prod").isEmpty)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aRevokedCertificateStaysRevokedFromItsFirstRevocation(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await store.recordCertificate(certificate("0a", notBefore: t(0)), at: t(0))
            #expect(try await store.revocation(serial: "0a", tenant: "acme", environment: "prod", notBefore: t(0)) == nil)
            let revoked = try await store.revokeCertificate(serial: "0a", at: t(10))
            #expect(revoked == certificate("0a", notBefore: t(0), revokedAt: t(10)))
            #expect(try await store.revokeCertificate(serial: "0a", at: t(20)).revokedAt == t(10), "revoked once")
            #expect(try await store.certificates(tenant: "acme", environment: "prod").first?.revokedAt == t(10))
            #expect(
                try await store.revocation(serial: "0a", tenant: "acme", environment: "prod", notBefore: t(0))
                    == "certificate 0a was revoked at \(Timestamp.format(t(10)))")
            await expectStoreError(.notFound("no certificate with serial ff was issued by this controller")) {
                _ = try await store.revokeCertificate(serial: "ff", at: t(10))
            }
        }
    }

    @Test(arguments: TestStoreKind.allCases) func revokingAnEnvironmentRevokesWhatItHoldsNowAndNothingIssuedAfter(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            try await store.recordCertificate(certificate("0a", notBefore: t(0)), at: t(0))
            try await store.recordCertificate(certificate("0b", notBefore: t(5)), at: t(5))
            try await store.recordCertificate(certificate("0d", environment: "dev", notBefore: t(5)), at: t(5))
            _ = try await store.revokeCertificate(serial: "0a", at: t(10))

            try await store.revokeEnvironment(tenant: "acme", environment: "prod", at: t(30))
            #expect(
                try await store.certificates(tenant: "acme", environment: "prod").map(\.revokedAt) == [t(30), t(10)],
                "0b revoked now, 0a keeps its own revocation")
            #expect(try await store.certificates(tenant: "acme", environment: "dev").first?.revokedAt == nil, "other environments keep theirs")
            #expect(
                try await store.revocation(serial: "0b", tenant: "acme", environment: "prod", notBefore: t(5))
                    == "certificate 0b was revoked at \(Timestamp.format(t(30)))")

            // Made elsewhere (no record here): judged by age against the environment's revocation.
            #expect(
                try await store.revocation(serial: "dev-pki-1", tenant: "acme", environment: "prod", notBefore: t(30))
                    == "environment acme/prod was revoked at \(Timestamp.format(t(30))); enroll again")
            #expect(try await store.revocation(serial: "dev-pki-2", tenant: "acme", environment: "prod", notBefore: t(31)) == nil)
            #expect(try await store.revocation(serial: "dev-pki-3", tenant: "acme", environment: "dev", notBefore: t(0)) == nil)

            // Issued here after the revocation (a new enrollment): its own record says it is good, whatever its notBefore.
            try await store.recordCertificate(certificate("0e", notBefore: t(20)), at: t(40))
            #expect(try await store.revocation(serial: "0e", tenant: "acme", environment: "prod", notBefore: t(20)) == nil)
            #expect(try await store.certificates(tenant: "acme", environment: "prod").first?.revokedAt == nil)

            await expectStoreError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                try await store.revokeEnvironment(tenant: "acme", environment: "nope", at: t(30))
            }
            await expectStoreError(.notFound("environment \"prod\" not found in tenant \"beta\"")) {
                try await store.revokeEnvironment(tenant: "beta", environment: "prod", at: t(30))
            }
        }
    }

    @Test(arguments: TestStoreKind.allCases) func serviceAccountTrustIsSetReplacedAndRemovedPerEnvironment(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == nil)
            let first = ServiceAccountTrust(
                issuer: "https://oidc.example/one", jwks: ["keys": [["kty": "RSA", "kid": "1", "n": "abc", "e": "AQAB"]]],
                namespace: "qbeast", serviceAccount: "agent")
            let second = ServiceAccountTrust(
                issuer: "https://oidc.example/two", jwks: ["keys": [["kty": "EC", "kid": "2", "crv": "P-256"]]],
                namespace: "data", serviceAccount: "qbeast-agent")
            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", first, at: t(0))
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == first)
            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", second, at: t(10))
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == second, "replaced")
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "dev") == nil, "per environment")

            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", nil, at: t(20))
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == nil)
            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", nil, at: t(30))
            #expect(try await store.serviceAccountTrust(tenant: "nope", environment: "prod") == nil)

            await expectStoreError(.notFound("tenant \"nope\" not found")) {
                try await store.setServiceAccountTrust(tenant: "nope", environment: "prod", first, at: t(0))
            }
            await expectStoreError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                try await store.setServiceAccountTrust(tenant: "acme", environment: "nope", nil, at: t(0))
            }
        }
    }

    /// An environment deleted and created again under the same name starts with no identity: the old
    /// agent's certificates stay refused, its unused tokens and its service-account trust are gone.
    @Test(arguments: TestStoreKind.allCases) func aRecreatedEnvironmentInheritsNoIdentity(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            try await store.recordCertificate(certificate("0d", environment: "dev", notBefore: t(0)), at: t(0))
            try await store.createEnrollmentToken(tenant: "acme", environment: "dev", tokenHash: "unused", expiresAt: t(3600), at: t(0))
            let trust = ServiceAccountTrust(
                issuer: "https://oidc.example/one", jwks: ["keys": [["kty": "RSA", "kid": "1", "n": "abc", "e": "AQAB"]]],
                namespace: "qbeast", serviceAccount: "agent")
            try await store.setServiceAccountTrust(tenant: "acme", environment: "dev", trust, at: t(0))

            _ = try await store.deleteEnvironment(tenant: "acme", name: "dev", at: t(10))
            try await addEnvironment(store, tenant: "acme", "dev")
            #expect(try await store.revocation(serial: "0d", tenant: "acme", environment: "dev", notBefore: t(0)) != nil)
            #expect(try await store.certificates(tenant: "acme", environment: "dev").map(\.revokedAt) == [t(10)])
            #expect(try await store.consumeEnrollmentToken(tokenHash: "unused", tenant: "acme", environment: "dev", at: t(20)) == .unknown)
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "dev") == nil)
        }
    }
}
