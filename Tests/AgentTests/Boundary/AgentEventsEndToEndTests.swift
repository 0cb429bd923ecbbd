import Foundation
import KubernetesAPI
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// The running agent records Kubernetes Events on its Deployment: a component applied, and a value the
/// boundary kept back (naming rule and field, never the value). Real controller and VictoriaMetrics;
/// the Kubernetes API is the project's stand-in (a real API server cannot run here).
@Suite(.serialized, .timeLimit(.minutes(2))) struct AgentEventsEndToEndTests {
    @Test func boundaryDropsAndAppliedComponentsBecomeEventsOnTheAgentsDeployment() async throws {
        let vm = try await TestVictoriaMetrics.start()
        defer { vm.stop() }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await vm.importPrometheus(
            (-4...8).map { #"qbeast_events_up{instance="a",customer_email="MARKER-EVENT@example.com"} 0 \#(now + Int64($0) * 15_000)"# })
        let kubernetes = await KubernetesTestServer.start()
        try await withController(seed: .acmeProd) { f in
            let spec = #"""
                {"spec":{"components":[{"name":"settings","manifests":[
                  {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"prod"}}]}],
                  "ruleGroups":[{"name":"g","interval":"1s","rules":[{"alert":"Down","expr":"qbeast_events_up == 0"}]}]}}
                """#
            #expect(try await f.operatorClient.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec).status == 201)
            var configuration = AgentConfiguration(
                controllerURL: f.controller.agentURL, tls: f.pki.agentTLS("acme-prod"), stateDirectory: f.directory.path("agent"))
            configuration.metricsStoreURL = vm.url
            configuration.kubernetes = KubernetesConnection(server: kubernetes.url, namespace: "qbeast", credential: .token("test-token"))
            configuration.installInterval = .milliseconds(200)
            configuration.pollTimeout = .seconds(2)
            configuration.retry = RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(250))
            configuration.eventsRegarding = KubernetesEvent.Regarding(apiVersion: "apps/v1", kind: "Deployment", name: "qbeast-agent")
            let agent = try TestAgent.start(configuration: configuration)
            @Sendable func events() -> [JSONValue] { kubernetes.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast") }
            try await eventually(timeout: .seconds(30), "a boundary drop and an applied component as Events") {
                let reasons = Set(events().compactMap { $0["reason"]?.stringValue })
                return reasons.isSuperset(of: ["BoundaryDropped", "ComponentApplied"])
            }
            let drop = try #require(events().first { $0["reason"]?.stringValue == "BoundaryDropped" })
            let note = drop["note"]?.stringValue ?? ""
            #expect(note.contains("rule Down") && note.contains("labels.customer_email") && note.contains("label_name"), "\(note)")
            #expect(!"\(events())".contains("MARKER-EVENT"), "an Event never carries the value")
            #expect(drop["type"]?.stringValue == "Warning")
            #expect(drop["regarding"]?["name"]?.stringValue == "qbeast-agent")
            // Every round drops the same field again: one object, not one per round.
            try await eventually(timeout: .seconds(10), "rounds go on") { await agent.service.rules?.rulesLoaded == 1 }
            #expect(events().filter { $0["reason"]?.stringValue == "BoundaryDropped" }.count == 1)

            // The controller goes away: the operators learn the connection is lost (once, not per retry).
            try await f.stopController()
            try await eventually(timeout: .seconds(20), "ControllerUnreachable recorded") {
                events().contains { $0["reason"]?.stringValue == "ControllerUnreachable" && $0["type"]?.stringValue == "Warning" }
            }
            #expect(events().filter { $0["reason"]?.stringValue == "ControllerUnreachable" }.count == 1)
            try await agent.stop()
        }
        try await kubernetes.stop()
    }
}
