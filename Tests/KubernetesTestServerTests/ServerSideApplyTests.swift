import KubernetesTestServer
import SplitPlaneProtocol
import TestSupport
import Testing

@Suite struct ServerSideApplyTests {
    @Test func applyCreatesUpdatesAndRepeatsAsANoOp() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)

        let created = try await client.apply(deploymentPath, deployment())
        #expect(created.status == 201)
        #expect(created.json[path: "metadata", "generation"] == 1)
        #expect(created.json[path: "metadata", "namespace"] == "qbeast")
        #expect(created.json[path: "metadata", "uid"]?.stringValue?.count == 36)
        #expect(created.json["status"] == [:])
        let entry = try #require(managers(created.json)["qbeast-agent/Apply"])
        #expect(entry["apiVersion"] == "apps/v1")
        #expect(entry["fieldsType"] == "FieldsV1")
        let container = entry[path: "fieldsV1", "f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#]
        #expect(container?["."] == [:])
        #expect(container?["f:image"] == [:])
        #expect(container?["f:ports"]?[#"k:{"containerPort":80,"protocol":"TCP"}"#]?["f:containerPort"] == [:])
        #expect(entry[path: "fieldsV1", "f:metadata", "f:labels", "f:app"] == [:])
        #expect(entry[path: "fieldsV1", "f:spec", "f:selector"] == [:])
        #expect(entry[path: "fieldsV1", "f:metadata", "f:name"] == nil)

        let version = created.json[path: "metadata", "resourceVersion"]
        let again = try await client.apply(deploymentPath, deployment())
        #expect(again.status == 200)
        #expect(again.json[path: "metadata", "resourceVersion"] == version)

        let updated = try await client.apply(deploymentPath, deployment(image: "nginx:1.28"))
        #expect(updated.status == 200)
        #expect(updated.json[path: "metadata", "generation"] == 2)
        #expect(updated.json[path: "metadata", "resourceVersion"] != version)
        #expect(updated.json[path: "spec", "template", "spec", "containers"]?[0]?["image"] == "nginx:1.28")
        #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") == updated.json)

        let dry = try await client.apply(deploymentPath, deployment(image: "nginx:1.29"), dryRun: true)
        #expect(dry.json[path: "spec", "template", "spec", "containers"]?[0]?["image"] == "nginx:1.29")
        #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") == updated.json)

        let noManager = try await client.request(.PATCH, deploymentPath, body: deployment(), contentType: "application/apply-patch+yaml")
        #expect(noManager.status == 422)
        #expect(noManager.json["message"] == "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
    }

    @Test func applyAcceptsYAML() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              mode: fast
            """
        let answer = try await KubeClient(baseURL: server.url).apply("/api/v1/namespaces/qbeast/configmaps/settings", yaml)
        #expect(answer.status == 201)
        #expect(answer.json[path: "data", "mode"] == "fast")
    }

    @Test func conflictWithAnotherManagerUnlessForced() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        _ = try await client.apply(deploymentPath, deployment())
        server.mutate(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") { object in
            object = object.setting(["spec", "replicas"], to: 5)
        }
        let edited = server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web")
        #expect(edited?[path: "metadata", "generation"] == 2)
        #expect(managers(edited)["kubectl-edit/Update"]?[path: "fieldsV1", "f:spec", "f:replicas"] == [:])
        #expect(managers(edited)["qbeast-agent/Apply"]?[path: "fieldsV1", "f:spec", "f:replicas"] == nil)

        let conflict = try await client.apply(deploymentPath, deployment())
        #expect(conflict.status == 409)
        #expect(conflict.json["reason"] == "Conflict")
        #expect(conflict.json["message"] == #"Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas"#)
        #expect(
            conflict.json[path: "details", "causes"] == [
                [
                    "type": "FieldManagerConflict", "message": #"conflict with "kubectl-edit" using apps/v1"#, "field": ".spec.replicas",
                ]
            ])

        // The same value as the other manager's is shared ownership, not a conflict.
        let shared = try await client.apply(deploymentPath, deployment(replicas: 5))
        #expect(shared.status == 200)

        let forced = try await client.apply(deploymentPath, deployment(replicas: 3), force: true)
        #expect(forced.status == 200)
        #expect(forced.json[path: "spec", "replicas"] == 3)
        #expect(managers(forced.json)["kubectl-edit/Update"] == nil)
        #expect(managers(forced.json)["qbeast-agent/Apply"]?[path: "fieldsV1", "f:spec", "f:replicas"] == [:])
    }

    @Test func fieldsAManagerStopsApplyingArePruned() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        _ = try await client.apply(deploymentPath, deployment(labels: ["app": "web", "tier": "front"], extraContainer: true))
        server.mutate(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") { object in
            object = object.setting(["metadata", "labels", "owner"], to: "ops")
        }
        let pruned = try await client.apply(deploymentPath, deployment())
        #expect(pruned.status == 200)
        #expect(pruned.json[path: "metadata", "labels"] == ["app": "web", "owner": "ops"])
        #expect(pruned.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 1)
        #expect(pruned.json[path: "metadata", "generation"] == 2)

        // Another applier sharing a field keeps it alive when the first one drops it.
        _ = try await client.apply(deploymentPath, deployment(labels: ["app": "web", "shared": "yes"]))
        _ = try await client.apply(
            deploymentPath, #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"shared":"yes"}}}"#,
            manager: "other")
        let kept = try await client.apply(deploymentPath, deployment())
        #expect(kept.json[path: "metadata", "labels", "shared"] == "yes")
    }

    @Test func statusIsIgnoredOnTheMainResourceAndSetByTheSubresource() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        _ = try await client.apply(deploymentPath, deployment())
        server.setStatus(
            apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web",
            status: ["observedGeneration": 1, "readyReplicas": 2])
        let afterStatus = try await client.request(.GET, deploymentPath)
        #expect(afterStatus.json[path: "status", "readyReplicas"] == 2)
        #expect(afterStatus.json[path: "metadata", "generation"] == 1)

        var withStatus = afterStatus.json
        withStatus = withStatus.setting(["status", "readyReplicas"], to: 9).setting(["spec", "replicas"], to: 4)
        let put = try await client.request(.PUT, deploymentPath, body: encode(withStatus))
        #expect(put.status == 200)
        #expect(put.json[path: "status", "readyReplicas"] == 2)
        #expect(put.json[path: "spec", "replicas"] == 4)
        #expect(put.json[path: "metadata", "generation"] == 2)
        #expect(put.json[path: "status", "observedGeneration"] == 1)

        let statusPatch = try await client.request(
            .PATCH, deploymentPath + "/status", body: #"{"status":{"readyReplicas":4},"spec":{"replicas":1}}"#,
            contentType: "application/merge-patch+json")
        #expect(statusPatch.status == 200)
        #expect(statusPatch.json[path: "status", "readyReplicas"] == 4)
        #expect(statusPatch.json[path: "spec", "replicas"] == 4)
        let statusGet = try await client.request(.GET, deploymentPath + "/status")
        #expect(statusGet.json[path: "status", "readyReplicas"] == 4)
        #expect(try await client.request(.GET, "/api/v1/namespaces/qbeast/configmaps/x/status").status == 404)
    }
}

func encode(_ value: JSONValue) -> String {
    String(decoding: try! StrictJSON.encode(value), as: UTF8.self)
}

extension JSONValue {
    func setting(_ path: [String], to value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var object: [String: JSONValue] = [:]
        if case .object(let existing) = self { object = existing }
        object[first] = (object[first] ?? .object([:])).setting(Array(path.dropFirst()), to: value)
        return .object(object)
    }
}

extension JSONValue {
    func removingNulls() -> JSONValue {
        switch self {
        case .object(let object): .object(object.filter { $0.value != .null }.mapValues { $0.removingNulls() })
        case .array(let items): .array(items.map { $0.removingNulls() })
        default: self
        }
    }
}
