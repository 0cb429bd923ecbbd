import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// Rules in a workspace spec, evaluated by the real agent against a real VictoriaMetrics, arrive at
/// the real controller attributed to the agent's tenant and environment.
@Suite(.serialized) struct AlertingEndToEndTests {
    @Test func ruleFiresInTheEnvironmentAndOnlyTheAlertReachesTheController() async throws {
        let vm = try await TestVictoriaMetrics.start()
        defer { vm.stop() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await vm.importPrometheus((-4...4).map { #"qbeast_backend_up{instance="backend-0",pod_ip="10.1.2.3"} 0 \#(now + Int64($0) * 15_000)"# })

        try await withController(seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            let spec = """
                {"spec":{"ruleGroups":[{"name":"backend","interval":"1s","rules":[{"alert":"QbeastBackendDown",
                  "expr":"qbeast_backend_up == 0","labels":{"severity":"critical"},
                  "annotations":{"summary":"backend {{ $labels.instance }} is down","runbook":"internal only"}}]}],
                  "alertAllowlist":{"labels":["instance","severity"]}}}
                """
            #expect(try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec).status == 201)
            let agent = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"), heartbeat: .seconds(1), metricsStoreURL: vm.url)

            try await eventually(timeout: .seconds(20), "alert at the controller") {
                try await api.request(.GET, "/v1/alerts?tenant=acme&state=firing").decode(ListResponse<StoredAlert>.self).items.count == 1
            }
            let alert = try #require(try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items.first)
            #expect(alert.environment == "prod")
            #expect(alert.workspace == "analytics")
            #expect(
                alert.labels == ["alertname": "QbeastBackendDown", "instance": "backend-0", "severity": "critical"],
                "pod_ip is not on the allowlist and stays in the environment")
            #expect(alert.annotations.keys.sorted() == ["summary"])

            try await eventually(timeout: .seconds(10), "RulesHealthy reported") {
                let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
                return workspace.status?.conditions[type: "RulesHealthy"]?.status == .true
            }
            let environment = try await api.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self)
            #expect(environment.agent?.metricsStoreReachable == true)
            #expect(environment.agent?.rulesLoaded == 1)

            try await agent.stop()
        }
    }

    @Test func templateThatDoesNotCompileIsRejectedWhenTheSpecArrives() async throws {
        let workspace = DesiredWorkspace(
            name: "w", generation: 3,
            ruleGroups: [
                RuleGroup(name: "g", rules: [AlertingRule(alert: "A", expr: "up == 0", annotations: ["summary": "{{ $labels.instance "])])
            ])
        let desired = DesiredState(tenant: "t", environment: "e", revision: 1, workspaces: [workspace])
        let status = try #require(WorkspaceStatusBuilder().statuses(for: desired, previous: [], now: Date()).first)
        let accepted = try #require(status.conditions[type: "Accepted"])
        #expect(accepted.status == .false)
        #expect(accepted.reason == "InvalidSpec")
        #expect(accepted.message.contains("spec.ruleGroups[0].rules[0].annotations.summary"))
    }
}
