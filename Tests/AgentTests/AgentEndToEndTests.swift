import Agent
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The real agent against the real controller over mutual TLS on loopback.
@Suite struct AgentEndToEndTests {
    @Test func specReachesTheAgentAndStatusComesBack() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            let agent = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"))
            try await eventually("agent connected") { await agent.service.desired != nil }

            let spec =
                #"{"spec":{"components":[{"name":"backend","manifests":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"backend"}}]}],"ruleGroups":[{"name":"g","rules":[{"alert":"Down","expr":"up == 0","for":"1m"}]}]}}"#
            let applied = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec)
            #expect(applied.status == 201)
            let started = ContinuousClock.now
            try await eventually("status reported") {
                let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
                return workspace.status?.observedGeneration == 1
            }
            // The long poll is 30 s; the round trip must not wait for it.
            #expect(ContinuousClock.now - started < .seconds(5))
            let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
            let status = try #require(workspace.status)
            #expect(status.conditions[type: "Received"]?.status == .true)
            #expect(status.conditions[type: "Accepted"]?.status == .true)
            #expect(status.components.map(\.name) == ["backend"])
            let environment = try await api.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self)
            // No metrics store configured: the rule is accepted but not evaluated, and the status says so.
            #expect(environment.agent?.rulesLoaded == 0)
            #expect(status.conditions[type: "RulesHealthy"]?.reason == "NoMetricsStore")
            #expect(environment.agent?.certificateExpiry != nil)

            try await agent.stop()
        }
    }

    @Test func alertsWaitOutAControllerOutageAndAnAgentRestartAndArriveOnce() async throws {
        let pki = try TestPKI()
        let directory = try TemporaryDirectory()
        defer { pki.remove(); directory.remove() }
        let database = directory.path("controller.sqlite")
        var controller = try await TestController.start(pki: pki, databasePath: database)
        let agentPort = controller.agentPort
        var api = try TestHTTPClient.operatorClient(controller, pki: pki)
        _ = try await api.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
        _ = try await api.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
        _ = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{}}"#)
        try await api.shutdown()

        let firstAgent = try TestAgent.start(pki: pki, agent: "acme-prod", controllerURL: controller.agentURL, stateDirectory: directory.path("agent"))
        try await eventually("agent connected") { await firstAgent.service.desired != nil }
        try await controller.stop()

        func alert(_ index: Int) -> AgentAlert {
            AgentAlert(
                workspace: "analytics", state: .firing, labels: ["alertname": "Alert\(index)", "severity": "warning"],
                annotations: ["summary": "number \(index)"], startsAt: Date(timeIntervalSince1970: 1_800_000_000))
        }
        for index in 0..<3 { try await firstAgent.service.outbox.enqueue([alert(index)]) }
        try await firstAgent.stop()
        // A new agent process on the same state directory, while the controller is still down.
        let agent = try TestAgent.start(pki: pki, agent: "acme-prod", controllerURL: "https://localhost:\(agentPort)", stateDirectory: directory.path("agent"))
        for index in 3..<5 { try await agent.service.outbox.enqueue([alert(index)]) }
        #expect(await agent.service.outbox.count == 5)

        controller = try await TestController.start(pki: pki, databasePath: database, agentPort: agentPort)
        try await eventually(timeout: .seconds(20), "outbox drained") { await agent.service.outbox.count == 0 }
        api = try TestHTTPClient.operatorClient(controller, pki: pki)
        let alerts = try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items
        #expect(alerts.map { $0.labels["alertname"]! }.sorted() == (0..<5).map { "Alert\($0)" })
        #expect(alerts.allSatisfy { $0.environment == "prod" })

        try await agent.stop()
        try await api.shutdown()
        try await controller.stop()
    }
}
