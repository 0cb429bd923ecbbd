import KubernetesTestServer
import SplitPlaneProtocol
import TestSupport
import Testing

@Suite struct DiscoveryTests {
    @Test func discoveryDocumentsHaveTheAPIServersShape() async throws {
        let server = await KubernetesTestServer.start()
        defer { Task { try await server.stop() } }
        let client = KubeClient(baseURL: server.url)

        let api = try await client.request(.GET, "/api")
        #expect(api.json["kind"] == "APIVersions")
        #expect(api.json["versions"] == ["v1"])

        let groups = try await client.request(.GET, "/apis")
        #expect(groups.json["kind"] == "APIGroupList")
        let names = groups.json["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("apps") && names.contains("rbac.authorization.k8s.io") && names.contains("apiextensions.k8s.io"))
        let apps = groups.json["groups"]?.arrayValue?.first { $0["name"] == "apps" }
        #expect(apps?["preferredVersion"] == ["groupVersion": "apps/v1", "version": "v1"])

        let appsV1 = try await client.request(.GET, "/apis/apps/v1")
        #expect(appsV1.json["kind"] == "APIResourceList")
        #expect(appsV1.json["groupVersion"] == "apps/v1")
        let resources = appsV1.json["resources"]?.arrayValue ?? []
        let deployments = try #require(resources.first { $0["name"] == "deployments" })
        #expect(deployments["kind"] == "Deployment")
        #expect(deployments["namespaced"] == true)
        #expect(deployments["singularName"] == "deployment")
        #expect(deployments["shortNames"] == ["deploy"])
        #expect(deployments["verbs"]?.arrayValue?.contains("patch") == true)
        #expect(resources.contains { $0["name"] == "deployments/status" && $0["verbs"] == ["get", "patch", "update"] })

        let core = try await client.request(.GET, "/api/v1")
        let namespaces = core.json["resources"]?.arrayValue?.first { $0["name"] == "namespaces" }
        #expect(namespaces?["namespaced"] == false)

        let version = try await client.request(.GET, "/version")
        #expect(version.json["major"] == "1")
        #expect(version.json["minor"] == "32")

        let unknown = try await client.request(.GET, "/apis/apps/v1/namespaces/qbeast/widgets")
        #expect(unknown.status == 404)
        #expect(unknown.json["kind"] == "Status")
        #expect(unknown.json["reason"] == "NotFound")
    }

    @Test func tokenIsRequired() async throws {
        let server = await KubernetesTestServer.start(token: "secret")
        defer { Task { try await server.stop() } }
        let wrong = try await KubeClient(baseURL: server.url, token: "other").request(.GET, "/api/v1/namespaces")
        #expect(wrong.status == 401)
        #expect(
            wrong.json == [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": "Unauthorized",
                "reason": "Unauthorized", "code": 401,
            ])
        let missing = try await KubeClient(baseURL: server.url, token: nil).request(.GET, "/api/v1/namespaces")
        #expect(missing.status == 401)
        let right = try await KubeClient(baseURL: server.url, token: "secret").request(.GET, "/api/v1/namespaces")
        #expect(right.status == 200)
        #expect(right.json["kind"] == "NamespaceList")

        server.setToken("rotated")
        #expect(try await KubeClient(baseURL: server.url, token: "secret").request(.GET, "/api/v1/namespaces").status == 401)
        #expect(try await KubeClient(baseURL: server.url, token: "rotated").request(.GET, "/api/v1/namespaces").status == 200)
        #expect(server.requests.count == 5)
    }
}
