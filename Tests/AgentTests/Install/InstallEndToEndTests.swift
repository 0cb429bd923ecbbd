import Agent
import Foundation
import KubernetesAPI
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The whole path: an operator PUTs a workspace, the controller resolves it (images pointed at the
/// environment's registry), the agent fetches it over mutual TLS, applies it through the test
/// Kubernetes API server (over TLS, with the service-account token), and the operator reads the result.
@Suite(.timeLimit(.minutes(2))) struct InstallEndToEndTests {
    @Test func workspaceBecomesObjectsAndStatusComesBack() async throws {
        try await withController { fixture in
            let (pki, directory, api) = (fixture.pki, fixture.directory, fixture.operatorClient)
            let kubernetes = try await KubernetesTestServer.start(pki: pki)
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            let registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
            try await fixture.mustSucceed(
                .POST, "/v1/tenants/acme/environments",
                json: #"{"name":"prod","cloud":"aws","mode":"provided","registry":"\#(registry)"}"#)
            try "test-token".write(toFile: directory.path("sa-token"), atomically: true, encoding: .utf8)
            let connection = KubernetesConnection(
                server: kubernetes.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"), namespace: "qbeast",
                credential: .tokenFile(directory.path("sa-token")),
                certificateAuthorityPEM: Array(FileManager.default.contents(atPath: pki.caBundle)!))
            let agent = try TestAgent.start(
                pki: pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL, stateDirectory: directory.path("agent"),
                heartbeat: .milliseconds(300), kubernetes: connection)

            let spec = #"""
                {"spec":{"components":[{"name":"backend","manifests":[
                  {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"backend-settings"},"data":{"mode":"prod"}},
                  {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"backend"},"spec":{"replicas":1,
                    "selector":{"matchLabels":{"app":"backend"}},"template":{"metadata":{"labels":{"app":"backend"}},
                    "spec":{"initContainers":[{"name":"migrate","image":"ghcr.io/qbeast/migrate:1.0"}],
                            "containers":[{"name":"main","image":"ghcr.io/qbeast/backend:1.0"}]}}}}]},
                  {"name":"cluster-wide","manifests":[{"apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer","metadata":{"name":"reader"},"spec":{}}]}]}}
                """#
            // A built-in cluster-scoped kind is refused by the controller already; a custom one only the agent can tell.
            let clusterRole = spec.replacingOccurrences(
                of: #""apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer""#,
                with: #""apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole""#)
            let refused = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: clusterRole)
            #expect(refused.status == 400)
            #expect(refused.problem?.detail.contains("(ClusterRole \"reader\") is cluster-scoped") == true)
            #expect(try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec).status == 201)
            try await eventually("deployment applied") {
                kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "backend") != nil
            }
            let deployment = try #require(kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "backend"))
            let podSpec = deployment["spec"]?["template"]?["spec"]
            #expect(podSpec?["containers"]?[0]?["image"] == .string("\(registry)/qbeast/backend:1.0"))
            #expect(podSpec?["initContainers"]?[0]?["image"] == .string("\(registry)/qbeast/migrate:1.0"))

            kubernetes.setStatus(
                apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "backend",
                status: [
                    "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                ])
            try await eventually("backend ready, cluster-wide refused") {
                let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
                let components = workspace.status?.components ?? []
                return components.first { $0.name == "backend" }?.state == "Ready" && components.first { $0.name == "cluster-wide" }?.state == "Refused"
            }
            let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/prod/workspaces/analytics").decode(Workspace.self)
            let status = try #require(workspace.status)
            #expect(status.conditions[type: "Applied"]?.reason == "Refused")
            #expect(status.conditions[type: "Degraded"]?.message.contains("ClusterIssuer/reader is cluster-scoped") == true)
            #expect(kubernetes.object(apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", namespace: nil, name: "reader") == nil)
            let environment = try await api.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self)
            #expect(environment.agent?.namespace == "qbeast")

            // Deleting the workspace uninstalls it.
            #expect(try await api.request(.DELETE, "/v1/tenants/acme/environments/prod/workspaces/analytics").status == 204)
            try await eventually("uninstalled") {
                kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "backend") == nil
                    && kubernetes.object(apiVersion: "v1", kind: "ConfigMap", namespace: "qbeast", name: "backend-settings") == nil
            }
            try await agent.stop()
            try await kubernetes.stop()
        }
    }
}
