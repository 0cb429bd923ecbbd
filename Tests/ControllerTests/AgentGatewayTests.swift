import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// The agent gateway: identity only from verified certificates, tenant isolation, long poll, idempotent alerts.
@Suite struct AgentGatewayTests {
    @Test func refusesConnectionsWithoutAValidClientCertificate() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let anonymous = TestHTTPClient(baseURL: fixture.controller.agentURL, tls: try TLSConfigurations.operatorClient(trustBundle: fixture.pki.caBundle))
            defer { Task { try? await anonymous.shutdown() } }
            await #expect(throws: (any Error).self, "no client certificate") {
                try await anonymous.request(.GET, "/agent/v1/desired?timeout=0", token: nil)
            }
            for name in ["other-ca", "expired"] {
                let client = try fixture.agentClient(name)
                await #expect(throws: (any Error).self, "certificate \(name)") {
                    try await client.request(.GET, "/agent/v1/desired?timeout=0", token: nil)
                }
            }
        }
    }

    @Test func refusesUnknownEnvironmentsAndForeignTrustDomains() async throws {
        try await withController(seed: .twoTenants) { fixture in
            for (name, detail) in [("acme-unregistered", "not registered"), ("foreign-domain", "trust domain")] {
                let client = try fixture.agentClient(name)
                let response = try await client.request(.GET, "/agent/v1/desired?timeout=0", token: nil)
                #expect(response.status == 403)
                #expect(response.headers["Content-Type"].first == "application/problem+json")
                #expect(response.problem?.detail.contains(detail) == true, "\(response.text)")
            }
        }
    }

    @Test func servesOnlyTheCallersEnvironmentOverHTTP2AndHTTP1() async throws {
        try await withController(seed: .twoTenants) { fixture in
            for http1Only in [false, true] {
                let acme = try fixture.agentClient("acme-prod", http1Only: http1Only)
                let desired = try await acme.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)
                #expect(desired.tenant == "acme")
                #expect(desired.workspaces.map(\.name) == ["analytics"])
            }
            let globex = try fixture.agentClient("globex-staging")
            // Query parameters that try to point elsewhere change nothing.
            let desired = try await globex.request(.GET, "/agent/v1/desired?after=0&tenant=acme&environment=prod", token: nil).decode(DesiredState.self)
            #expect(desired.tenant == "globex")
            #expect(desired.environment == "staging")
            #expect(desired.workspaces.isEmpty)
        }
    }

    @Test func oneTenantCannotWriteAnothersStatusOrAlerts() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let globex = try fixture.agentClient("globex-staging")
            try await fixture.mustSucceed(.PUT, "/v1/tenants/globex/environments/staging/workspaces/analytics", json: #"{"spec":{}}"#)
            // globex reports a status for a workspace named like acme's, and sends an alert about it.
            let report = StatusReport(
                agent: AgentFacts(instance: "globex-1", version: "x", certificateExpiry: nil, rulesLoaded: 0, metricsStoreReachable: nil, desiredRevision: 1),
                workspaces: [WorkspaceStatus(name: "analytics", observedGeneration: 99, conditions: [], components: [])]
            )
            #expect(try await globex.request(.PUT, "/agent/v1/status", encoding: report, token: nil).status == 204)
            let batch = AlertBatch(
                instance: "globex-1", sequence: 1,
                alerts: [
                    AgentAlert(workspace: "analytics", state: .firing, labels: ["alertname": "Spoof"], annotations: [:], startsAt: Date())
                ])
            #expect(try await globex.request(.POST, "/agent/v1/alerts", encoding: batch, token: nil).status == 200)
            // A body claiming another tenant through reserved labels is refused outright.
            let spoof = AlertBatch(
                instance: "globex-1", sequence: 2,
                alerts: [
                    AgentAlert(workspace: "analytics", state: .firing, labels: ["alertname": "Spoof", "tenant": "acme"], annotations: [:], startsAt: Date())
                ])
            let refused = try await globex.request(.POST, "/agent/v1/alerts", encoding: spoof, token: nil)
            #expect(refused.status == 400)
            #expect(refused.problem?.detail.contains("tenant") == true)

            let workspace = try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
            #expect(workspace.status == nil)
            let acmeAlerts = try await fixture.operatorClient.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self)
            #expect(acmeAlerts.items.isEmpty)
            let globexAlerts = try await fixture.operatorClient.request(.GET, "/v1/alerts?tenant=globex").decode(ListResponse<StoredAlert>.self)
            #expect(globexAlerts.items.map(\.environment) == ["staging"])
        }
    }

    @Test func longPollAnswersAsSoonAsTheSpecChanges() async throws {
        try await withController(seed: .twoTenants, maxPollTimeout: .seconds(60)) { fixture in
            let acme = try fixture.agentClient("acme-prod")
            let current = try await acme.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)
            let started = ContinuousClock.now
            async let next = acme.request(.GET, "/agent/v1/desired?after=\(current.revision)&timeout=60", token: nil)
            try await eventually("long poll registered") { await fixture.controller.server.notifier.waiterCount == 1 }
            let applied = try await fixture.operatorClient.request(
                .PUT, "/v1/tenants/acme/environments/prod/workspaces/ingest",
                json: #"{"spec":{"components":[]}}"#)
            #expect(applied.status == 201)
            let answer = try await next.decode(DesiredState.self)
            #expect(answer.revision > current.revision)
            #expect(answer.workspaces.map(\.name) == ["analytics", "ingest"])
            #expect(ContinuousClock.now - started < .seconds(10), "answered on change, not at the 60 s timeout")
        }
    }

    @Test func longPollIsAnsweredOnGracefulShutdown() async throws {
        try await withController(seed: .acmeProd, maxPollTimeout: .seconds(120)) { fixture in
            let environment = try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self)
            let acme = try fixture.agentClient("acme-prod")
            async let held = acme.request(.GET, "/agent/v1/desired?after=\(environment.desiredRevision)&timeout=120", token: nil)
            try await eventually("long poll registered") { await fixture.controller.server.notifier.waiterCount == 1 }
            let started = ContinuousClock.now
            // The poll's answer is measured, not the whole shutdown (which also drains other connections).
            let stopping = Task { try await fixture.stopController() }
            let answer = try await held
            let answeredAfter = ContinuousClock.now - started
            try await stopping.value
            // Told when to come back, at a random second of a window sized to the waiting agents.
            #expect(answer.status == 503)
            #expect(answer.headers.first(name: "Retry-After").flatMap(Int.init).map { (1...60).contains($0) } == true)
            #expect(answeredAfter < .seconds(10), "answered at shutdown, not at the 120 s timeout")
        }
    }

    @Test func alertBatchesAreStoredOncePerSequence() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let acme = try fixture.agentClient("acme-prod")
            let alert = AgentAlert(
                workspace: "analytics", state: .firing, labels: ["alertname": "BackendDown", "severity": "critical"],
                annotations: ["summary": "down"], startsAt: Date(timeIntervalSince1970: 1_800_000_000))
            let batch = AlertBatch(instance: "i-1", sequence: 7, alerts: [alert])
            let first = try await acme.request(.POST, "/agent/v1/alerts", encoding: batch, token: nil)
            #expect(first.text.contains("\"duplicate\" : false"))
            // The same sequence again, even with different content, is recognised and not applied.
            var replay = batch
            replay.alerts[0].state = .resolved
            let second = try await acme.request(.POST, "/agent/v1/alerts", encoding: replay, token: nil)
            #expect(second.status == 200)
            #expect(second.text.contains("\"duplicate\" : true"))

            let alerts = try await fixture.operatorClient.request(.GET, "/v1/alerts").decode(ListResponse<StoredAlert>.self).items
            #expect(alerts.count == 1)
            #expect(alerts.first?.state == .firing)
            #expect(alerts.first?.tenant == "acme")
            #expect(alerts.first?.environment == "prod")
            #expect(alerts.first?.labels["severity"] == "critical")

            let garbage = try await acme.request(
                .POST, "/agent/v1/alerts", json: #"{"apiVersion":"agent.qbeast.io/v1","kind":"AlertBatch","instance":"i","sequence":1,"alerts":[],"extra":1}"#,
                token: nil)
            #expect(garbage.status == 400)
            #expect(garbage.problem?.detail == "extra: unknown field")
        }
    }

    @Test func deletedEnvironmentIsRefused() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let globex = try fixture.agentClient("globex-staging")
            #expect(try await globex.request(.GET, "/agent/v1/desired?timeout=0", token: nil).status == 200)
            #expect(try await fixture.operatorClient.request(.DELETE, "/v1/tenants/globex/environments/staging").status == 204)
            let refused = try await globex.request(.GET, "/agent/v1/desired?timeout=0", token: nil)
            #expect(refused.status == 403)
        }
    }
}
