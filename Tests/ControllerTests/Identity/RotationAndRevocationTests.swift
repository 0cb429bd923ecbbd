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

/// Short-lived certificates renewed under load, and revocation that takes effect at once.
@Suite struct RotationAndRevocationTests {
    /// Credentials enrolled for acme/prod with a fresh one-time token, as an agent's first start gets them.
    func enrolled(_ fixture: ControllerFixture, state: String, tokenFile: String) async throws -> TLSFiles {
        let token = try await fixture.mustSucceed(.POST, "/v1/tenants/acme/environments/prod/enrollment-tokens", json: "{}").decode(EnrollmentToken.self)
        try token.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        return try await AgentEnrollment.credentials(
            stateDirectory: state, configured: nil, caBundle: fixture.pki.caBundle,
            enrollment: EnrollmentSettings(url: fixture.controller.enrollURL, tenant: "acme", environment: "prod", tokenFile: tokenFile),
            trustDomain: fixture.pki.trustDomain, logger: Logger(label: "test"))
    }

    @Test func theAgentRenewsBeforeExpiryWithoutLosingAnAlert() async throws {
        // A 6 s certificate is renewed at 4 s; two renewals happen while alerts keep flowing.
        try await withController(seed: .acmeProdAnalytics, agentCertificateLifetime: 6) { fixture in
            let api = fixture.operatorClient
            let state = fixture.directory.path("agent")
            let tls = try await enrolled(fixture, state: state, tokenFile: fixture.directory.path("token"))
            let agent = try TestAgent.start(tls: tls, controllerURL: fixture.controller.agentURL, stateDirectory: state)
            let clock = ContinuousClock()
            let started = clock.now
            var sent = 0
            while clock.now - started < .seconds(10) {
                sent += 1
                _ = try await agent.service.outbox.enqueue([
                    AgentAlert(
                        workspace: "analytics", state: .firing,
                        labels: ["alertname": "Load\(sent)"], annotations: [:], startsAt: Date())
                ])
                try await Task.sleep(for: .milliseconds(100))
            }
            let total = sent
            try await eventually(timeout: .seconds(15), "all \(total) alerts stored") {
                try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items.count == total
            }
            try await agent.stop()
            let certificates = try await api.request(.GET, "/v1/tenants/acme/environments/prod/certificates").decode(ListResponse<AgentCertificate>.self).items
            #expect(certificates.filter { $0.method == "renewal" }.count >= 2, "renewed at two thirds of each 6 s lifetime: \(certificates.map(\.method))")
            // …and not more often: a storm of renewals would mean the agent thinks its fresh certificate is already due.
            #expect(certificates.filter { $0.method == "renewal" }.count <= 4, "renewals in 10 s: \(certificates.count - 1)")
            let current = try #require(CredentialStore(stateDirectory: state).current())
            // The newest, or the one before if the agent was stopped while a renewal was answered.
            #expect(
                certificates.prefix(2).map(\.serial).contains(try CredentialStore.certificate(current).serialHex),
                "the state directory holds the newest certificate")
            let renewals = try await api.request(.GET, "/v1/audit").decode(ListResponse<AuditRecord>.self).items.filter { $0.action == "renew" }
            #expect(renewals.count >= 2)
            // Renewals left the environment too: each is in the agent's egress journal, beside status and alerts.
            let journal = try EgressJournal.read(directory: URL(fileURLWithPath: state).appendingPathComponent("egress"))
            // (One answered just as the agent stopped may be issued but not journalled.)
            let journalled = journal.filter { $0.kind == "certificate" }.count
            #expect(journalled >= 2 && journalled <= certificates.filter { $0.method == "renewal" }.count)
            #expect(Set(journal.map(\.kind)).isSuperset(of: ["alerts", "status", "certificate"]))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func revokingAnEnvironmentClosesItsLongPollWithinASecondAndRefusesItsCertificates(
        _ kind: TestStoreKind
    ) async throws {
        try await withController(store: kind, seed: .acmeProdAnalytics) { fixture in
            let api = fixture.operatorClient
            let tls = try await enrolled(fixture, state: fixture.directory.path("agent"), tokenFile: fixture.directory.path("token"))
            let agent = TestHTTPClient(baseURL: fixture.controller.agentURL, tls: try TLSConfigurations.agentClient(tls))
            let desired = try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)

            async let held = agent.request(.GET, "/agent/v1/desired?after=\(desired.revision)&timeout=30", token: nil)
            try await eventually("the long poll is held") { await fixture.controller.server.notifier.waiterCount == 1 }
            #expect(try await api.request(.POST, "/v1/tenants/acme/environments/prod/revoke", body: nil).status == 200)
            // Counted from the revocation's 200 (it is committed then), not from the request's start: how
            // long the operator API takes to answer on a loaded machine is not the poll's doing.
            let revokedAt = ContinuousClock.now
            let answer = try await held
            #expect(ContinuousClock.now - revokedAt < .seconds(1), "the held long poll ended within a second")
            #expect(answer.status == 403 && answer.problem?.detail.contains("revoked") == true, "\(answer.text)")
            let later = try await agent.request(.POST, "/agent/v1/alerts", encoding: AlertBatch(instance: "i", sequence: 1, alerts: []), token: nil)
            #expect(later.status == 403, "the same certificate is refused on every later request")
            let listed = try await api.request(.GET, "/v1/tenants/acme/environments/prod/certificates").decode(ListResponse<AgentCertificate>.self)
            #expect(listed.items.allSatisfy { $0.revokedAt != nil })

            // Only a new enrollment brings the environment back.
            let fresh = try await enrolled(fixture, state: fixture.directory.path("agent-2"), tokenFile: fixture.directory.path("token-2"))
            let reenrolled = TestHTTPClient(baseURL: fixture.controller.agentURL, tls: try TLSConfigurations.agentClient(fresh))
            #expect(try await reenrolled.request(.GET, "/agent/v1/desired?after=0", token: nil).status == 200)
            try await reenrolled.shutdown()
            try await agent.shutdown()
        }
    }

    @Test(arguments: TestStoreKind.allCases) func revokingOneCertificateRefusesItAlone(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProdAnalytics) { fixture in
            let api = fixture.operatorClient
            let first = try await enrolled(fixture, state: fixture.directory.path("a"), tokenFile: fixture.directory.path("ta"))
            let second = try await enrolled(fixture, state: fixture.directory.path("b"), tokenFile: fixture.directory.path("tb"))
            let serial = try CredentialStore.certificate(first).serialHex
            let revoked = try await api.request(.POST, "/v1/certificates/\(serial)/revoke", body: nil)
            let revokedCertificate = try revoked.decode(AgentCertificate.self)
            #expect(revoked.status == 200 && revokedCertificate.revokedAt != nil)
            #expect(try await api.request(.POST, "/v1/certificates/00ff/revoke", body: nil).status == 404)
            for (files, expected) in [(first, 403), (second, 200)] {
                let client = TestHTTPClient(baseURL: fixture.controller.agentURL, tls: try TLSConfigurations.agentClient(files))
                #expect(try await client.request(.GET, "/agent/v1/desired?after=0", token: nil).status == expected)
                try await client.shutdown()
            }
        }
    }

    @Test func agentsReceiveANewCABundleWithTheirDesiredState() async throws {
        try await withController(seed: .acmeProdAnalytics) { fixture in
            let state = fixture.directory.path("agent")
            let tls = try await enrolled(fixture, state: state, tokenFile: fixture.directory.path("token"))
            let agent = try TestAgent.start(tls: tls, controllerURL: fixture.controller.agentURL, stateDirectory: state)
            try await eventually("connected") { await agent.service.desired != nil }

            // A CA rotation begins: the controller's bundle now holds the old and the new CA.
            let newCA = try CertificateAuthority.create(commonName: "next CA", validFor: 86_400)
            let bundle = try String(contentsOfFile: fixture.pki.caBundle, encoding: .utf8) + newCA.certificate.pemString()
            try bundle.write(toFile: fixture.pki.caBundle, atomically: true, encoding: .utf8)
            try await fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/prod/workspaces/rotation", json: #"{"spec":{"components":[]}}"#)
            try await eventually("the agent's own CA file holds the new bundle") {
                (try? String(contentsOfFile: tls.trustBundle, encoding: .utf8)) == bundle
            }
            // It still talks to the controller (whose certificate is from the old CA, still in the bundle).
            try await fixture.mustSucceed(
                .PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{"components":[{"name":"x","manifests":[]}]}}"#)
            try await eventually("a later spec still arrives") {
                await agent.service.desired?.workspaces.first { $0.name == "analytics" }?.components.count == 1
            }
            try await agent.stop()
        }
    }
}
