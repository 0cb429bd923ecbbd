import Foundation
import KubernetesTestServer
import SplitPlaneProtocol
import TestSupport
import Testing

@Suite struct ObjectAPITests {
    func configMap(_ name: String, labels: [String: String], namespace: String = "qbeast") -> String {
        let labelJSON = labels.map { "\"\($0.key)\":\"\($0.value)\"" }.sorted().joined(separator: ",")
        return #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)","namespace":"\#(namespace)","labels":{\#(labelJSON)}},"data":{"k":"v"}}"#
    }

    @Test func createGetListWithSelectors() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let path = "/api/v1/namespaces/qbeast/configmaps"
        #expect(try await client.request(.POST, path, body: configMap("a", labels: ["app": "web", "tier": "front"])).status == 201)
        #expect(try await client.request(.POST, path, body: configMap("b", labels: ["app": "db"])).status == 201)
        #expect(try await client.request(.POST, path, body: configMap("c", labels: ["app": "cache", "tier": "back"])).status == 201)
        #expect(
            try await client.request(.POST, "/api/v1/namespaces/default/configmaps", body: configMap("d", labels: ["app": "web"], namespace: "default")).status
                == 201)

        let duplicate = try await client.request(.POST, path, body: configMap("a", labels: [:]))
        #expect(duplicate.status == 409)
        #expect(duplicate.json["reason"] == "AlreadyExists")
        #expect(duplicate.json["message"] == #"configmaps "a" already exists"#)
        #expect(duplicate.json["details"] == ["name": "a", "kind": "configmaps"])

        let wrongNamespace = try await client.request(.POST, path, body: configMap("e", labels: [:], namespace: "default"))
        #expect(wrongNamespace.status == 400)
        #expect(wrongNamespace.json["message"] == "the namespace of the provided object does not match the namespace sent on the request")

        let nameless = try await client.request(.POST, path, body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#)
        #expect(nameless.status == 422)
        #expect(nameless.json["reason"] == "Invalid")

        let missing = try await client.request(.GET, path + "/nope")
        #expect(missing.status == 404)
        #expect(missing.json["message"] == #"configmaps "nope" not found"#)
        let missingDeployment = try await client.request(.GET, deploymentPath)
        #expect(missingDeployment.json["message"] == #"deployments.apps "web" not found"#)
        #expect(missingDeployment.json["details"] == ["name": "web", "group": "apps", "kind": "deployments"])

        func names(_ query: String, _ base: String = path) async throws -> [String] {
            let list = try await client.request(.GET, base + "?" + query)
            #expect(list.json["kind"] == "ConfigMapList")
            #expect(list.json[path: "metadata", "resourceVersion"]?.stringValue != nil)
            #expect(list.json["items"]?[0]?["kind"] == "ConfigMap")
            return list.json["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue } ?? []
        }
        #expect(try await names("labelSelector=app%3Dweb") == ["a"])
        #expect(try await names("labelSelector=app!%3Dweb") == ["b", "c"])
        #expect(try await names("labelSelector=app+in+(web,db)") == ["a", "b"])
        #expect(try await names("labelSelector=app%20notin%20(web,db)") == ["c"])
        #expect(try await names("labelSelector=tier") == ["a", "c"])
        #expect(try await names("labelSelector=!tier") == ["b"])
        #expect(try await names("labelSelector=tier,app%3Dcache") == ["c"])
        #expect(try await names("fieldSelector=metadata.name%3Db") == ["b"])
        #expect(try await names("labelSelector=app%3Dweb", "/api/v1/configmaps") == ["d", "a"])
    }

    @Test func replaceAndDeleteCheckPreconditions() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let created = try await client.request(.POST, "/api/v1/namespaces/qbeast/configmaps", body: configMap("a", labels: [:]))
        let path = "/api/v1/namespaces/qbeast/configmaps/a"
        let stale = created.json.setting(["metadata", "resourceVersion"], to: "1").setting(["data", "k"], to: "w")
        let conflict = try await client.request(.PUT, path, body: encode(stale))
        #expect(conflict.status == 409)
        #expect(
            conflict.json["message"]
                == #"Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again"#
        )
        let fresh = created.json.setting(["data", "k"], to: "w")
        let replaced = try await client.request(.PUT, path, body: encode(fresh), userAgent: "kubectl/v1.32.4 (linux/amd64)")
        #expect(replaced.status == 200)
        #expect(replaced.json[path: "data", "k"] == "w")
        #expect(managers(replaced.json)["kubectl/Update"]?[path: "fieldsV1", "f:data", "f:k"] == [:])

        let patched = try await client.request(
            .PATCH, path, body: #"[{"op":"add","path":"/data/extra","value":"x"},{"op":"remove","path":"/data/k"}]"#,
            contentType: "application/json-patch+json")
        #expect(patched.json["data"] == ["extra": "x"])

        let wrongUID = try await client.request(
            .DELETE, path, body: #"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}"#)
        #expect(wrongUID.status == 409)
        #expect(wrongUID.json["reason"] == "Conflict")
        #expect(
            wrongUID.json["message"]?.stringValue?.hasPrefix(#"Operation cannot be fulfilled on configmaps "a": Precondition failed: UID in precondition"#)
                == true)

        let uid = try #require(created.json[path: "metadata", "uid"]?.stringValue)
        let deleted = try await client.request(.DELETE, path, body: #"{"preconditions":{"uid":"\#(uid)"}}"#)
        #expect(deleted.status == 200)
        #expect(deleted.json["status"] == "Success")
        #expect(deleted.json[path: "details", "uid"] == .string(uid))
        #expect(try await client.request(.GET, path).status == 404)
    }

    @Test func injectedFailuresAnswerTheirStatus() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let id = server.inject(failure: .forbidden(verb: "patch", resource: "deployments", namespace: "qbeast"))
        let forbidden = try await client.apply(deploymentPath, deployment())
        #expect(forbidden.status == 403)
        #expect(forbidden.json["reason"] == "Forbidden")
        #expect(
            forbidden.json["message"]
                == #"deployments.apps "web" is forbidden: User "system:serviceaccount:qbeast:qbeast-agent" cannot patch resource "deployments" in API group "apps" in the namespace "qbeast""#
        )
        #expect(try await client.request(.GET, deploymentPath).status == 404)
        server.lift(id)
        #expect(try await client.apply(deploymentPath, deployment()).status == 201)

        server.inject(failure: .quotaExceeded(resource: "pods", namespace: "qbeast"))
        // The name comes from the request body on create.
        let quota = try await client.request(
            .POST, "/api/v1/namespaces/qbeast/pods",
            body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#)
        #expect(quota.status == 403)
        #expect(
            quota.json["message"]
                == #"pods "p" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1"#)
    }

    @Test func rulesReviewAnswersTheConfiguredRules() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
        let review = #"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"qbeast"}}"#
        let everything = try await client.request(.POST, path, body: review)
        #expect(everything.status == 201)
        #expect(everything.json[path: "status", "resourceRules"]?[0] == ["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]])
        #expect(everything.json[path: "status", "incomplete"] == false)
        server.setRules([["verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]]])
        let limited = try await client.request(.POST, path, body: review)
        #expect(limited.json[path: "status", "resourceRules"] == [["verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]]])
    }

    @Test func clusterScopedKindsAndBodyLimit() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let role = #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"},"rules":[]}"#
        #expect(try await client.apply("/apis/rbac.authorization.k8s.io/v1/namespaces/qbeast/clusterroles/r", role).status == 404)
        let created = try await client.apply("/apis/rbac.authorization.k8s.io/v1/clusterroles/r", role)
        #expect(created.status == 201)
        #expect(created.json[path: "metadata", "namespace"] == nil)
        #expect(try await client.apply("/api/v1/namespaces/missing/configmaps/x", configMap("x", labels: [:], namespace: "missing")).status == 404)

        let big = String(repeating: "x", count: 4 << 20)
        let tooLarge = try await client.request(.POST, "/api/v1/namespaces/qbeast/configmaps", body: big)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.json["reason"] == "RequestEntityTooLarge")
    }
}

@Suite struct WatchTests {
    @Test func watchStreamsEventsForTheSelectedObject() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)
        let body = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}"#
        #expect(try await client.request(.POST, "/api/v1/namespaces/qbeast/configmaps", body: body).status == 201)
        let watch = Task {
            try await client.request(.GET, "/api/v1/namespaces/qbeast/configmaps?watch=true&fieldSelector=metadata.name%3Da&timeoutSeconds=2")
        }
        try await eventually("watch registered") { server.watchCount == 1 }
        server.mutate(apiVersion: "v1", kind: "ConfigMap", namespace: "qbeast", name: "a") { $0 = $0.setting(["data", "k"], to: "w") }
        server.remove(apiVersion: "v1", kind: "ConfigMap", namespace: "qbeast", name: "a")
        let answer = try await watch.value
        let events = answer.text.split(separator: "\n").compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "MODIFIED", "DELETED"])
        #expect(events.last?[path: "object", "metadata", "name"] == "a")
    }
}
