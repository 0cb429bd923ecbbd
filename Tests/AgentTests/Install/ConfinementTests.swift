import Foundation
import KubernetesAPI
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// What a customer's security reviewer relies on: nothing outside the agent's namespace and rights
/// is applied, and a refused component has nothing of it applied.
@Suite struct ConfinementTests {
    @Test func clusterScopedObjectRefusesTheWholeComponent() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let clusterRole: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "reader"],
            "rules": [["verbs": ["get"], "apiGroups": [""], "resources": ["pods"]]],
        ]
        let workspace = try harness.workspace(["backend": [Manifests.configMap("settings"), clusterRole], "web": [Manifests.configMap("web")]])
        await harness.installer.reconcile([workspace])

        #expect(harness.configMap("settings") == nil)
        #expect(harness.configMap("web") != nil)
        #expect(harness.server.requests.allSatisfy { !$0.path.contains("clusterroles") })
        let report = await harness.report(workspace)
        let backend = try #require(report.components.first { $0.name == "backend" })
        #expect(backend.state == "Refused")
        #expect(backend.message?.contains("ClusterRole/reader is cluster-scoped") == true)
        #expect(backend.objects?.first { $0.kind == "ClusterRole" }?.state == "Refused")
        #expect(report.conditions[type: "Applied"]?.reason == "Refused")
    }

    @Test func otherNamespaceIsRefused() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        var elsewhere = Manifests.configMap("settings")
        elsewhere = .object(elsewhere.objectDictionary.merging(["metadata": ["name": "settings", "namespace": "kube-system"]]) { _, new in new })
        let workspace = try harness.workspace(["backend": [elsewhere]])
        await harness.installer.reconcile([workspace])
        #expect(harness.server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "kube-system", name: "settings") == nil)
        let report = await harness.report(workspace)
        #expect(report.components[0].state == "Refused")
        #expect(report.components[0].message?.contains("names namespace \"kube-system\"") == true)
    }

    @Test func roleGrantingMoreThanTheAgentHoldsIsRefused() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        harness.server.setRules([
            [
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"], "apiGroups": ["", "apps"],
                "resources": ["configmaps", "deployments", "pods", "pods/log"],
            ]
        ])
        let modest: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "reader"],
            "rules": [["verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]]],
        ]
        let greedy: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "admin"],
            "rules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]]],
        ]
        let binding: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "reader"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"],
            "subjects": [["kind": "ServiceAccount", "name": "backend", "namespace": "qbeast"]],
        ]
        let workspace = try harness.workspace(["ok": [modest, binding], "greedy": [greedy]])
        await harness.installer.reconcile([workspace])
        let report = await harness.report(workspace)
        #expect(report.components.first { $0.name == "ok" }?.state == "Ready")
        let refused = try #require(report.components.first { $0.name == "greedy" })
        #expect(refused.state == "Refused")
        #expect(refused.message?.contains("grants \"*\" on *.*, more than the agent holds") == true)
        #expect(harness.server.object(apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", namespace: "qbeast", name: "admin") == nil)
    }

    @Test func rulesCoverage() {
        let held = [
            PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "services/*"]),
            PolicyRule(verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"]),
        ]
        #expect(PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]).firstUncovered(by: held) == nil)
        #expect(PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["services/proxy"]).firstUncovered(by: held) == nil)
        #expect(PolicyRule(verbs: ["delete"], apiGroups: ["apps"], resources: ["deployments"]).firstUncovered(by: held) == nil)
        #expect(PolicyRule(verbs: ["delete"], apiGroups: [""], resources: ["pods"]).firstUncovered(by: held) == "\"delete\" on pods")
        #expect(PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["pods"]).firstUncovered(by: held) == "\"get\" on pods.*")
        #expect(PolicyRule(verbs: ["escalate"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"]).firstUncovered(by: held) != nil)
        let named = [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["tls"])]
        #expect(PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["tls"]).firstUncovered(by: named) == nil)
        #expect(PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["secrets"]).firstUncovered(by: named) != nil)
    }

    @Test func bindingsToClusterRolesOrUsersAreRefused() {
        let confinement = NamespaceConfinement(namespace: "qbeast", agentRules: [])
        let resource = APIResource(group: "rbac.authorization.k8s.io", version: "v1", name: "rolebindings", kind: "RoleBinding", namespaced: true)
        let toClusterRole: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "b"],
            "roleRef": ["kind": "ClusterRole", "name": "cluster-admin"], "subjects": [],
        ]
        #expect(confinement.refusal(of: toClusterRole, resource: resource)?.contains("binds ClusterRole/cluster-admin") == true)
        let toUser: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "b"],
            "roleRef": ["kind": "Role", "name": "r"], "subjects": [["kind": "User", "name": "alice"]],
        ]
        #expect(confinement.refusal(of: toUser, resource: resource)?.contains("binds User \"alice\"") == true)
        let otherNamespace: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "b"],
            "roleRef": ["kind": "Role", "name": "r"], "subjects": [["kind": "ServiceAccount", "name": "x", "namespace": "other"]],
        ]
        #expect(confinement.refusal(of: otherNamespace, resource: resource)?.contains("other/x of another namespace") == true)
    }
}
