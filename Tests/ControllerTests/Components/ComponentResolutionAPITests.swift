import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Resolution through the real controller: workspace PUT resolves components (charts through a
/// stand-in for helm, see `FakeHelm`), the desired state names them by hash, the agent fetches them
/// by hash from its own environment only, and an environment PATCH re-resolves everything.
@Suite struct ComponentResolutionAPITests {
    static let registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
    static let otherRegistry = "210987654321.dkr.ecr.us-east-1.amazonaws.com/ghcr-cache"
    static let workspacePath = "/v1/tenants/acme/environments/prod/workspaces/analytics"
    static let mcpPod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "mcp"],
        "spec": ["containers": [["name": "mcp", "image": "ghcr.io/qbeast/mcp:0.3.0"]]],
    ]

    static func spec(version: String = "1.4.2", extra: String = "") -> String {
        """
        {"spec":{"components":[
          {"name":"backend","chart":{"repository":"oci://ghcr.io/qbeast/charts","chart":"qbeast-backend","version":"\(version)","values":{"replicas":2}}},
          {"name":"mcp","manifests":[\(String(decoding: try! StrictJSON.encode(mcpPod), as: UTF8.self))]}\(extra)]}}
        """
    }

    /// acme/prod (aws, namespace team-a, a registry) and globex/staging (gcp); helm is the stand-in
    /// that renders qbeast-backend 1.4.2 for namespace team-a, or `helm` as given. The stand-in has a
    /// directory of its own: the controller learns where helm is as it starts, before the fixture's
    /// directory exists.
    func withEnvironments(helm: ((TemporaryDirectory) throws -> String?)? = nil, _ body: (ControllerFixture) async throws -> Void) async throws {
        let helmDirectory = try TemporaryDirectory()
        defer { helmDirectory.remove() }
        let binary =
            try helm.map { try $0(helmDirectory) }
            ?? FakeHelm.renderer(
                in: helmDirectory, expectedArguments: "template backend oci://ghcr.io/qbeast/charts/qbeast-backend --version 1.4.2 --namespace team-a",
                expectedValues: #"{"replicas":2}"#)
        try await withController(configure: { $0.helmBinary = binary }) { fixture in
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"globex"}"#)
            let created = try await fixture.operatorClient.request(
                .POST, "/v1/tenants/acme/environments",
                json: """
                    {"name":"prod","cloud":"aws","mode":"provided","namespace":"team-a","registry":"\(Self.registry)"}
                    """)
            #expect(created.status == 201, "\(created.text)")
            let environment = try created.decode(Environment.self)
            #expect(environment.namespace == "team-a" && environment.registry == Self.registry)
            let globex = try await fixture.operatorClient.request(
                .POST, "/v1/tenants/globex/environments", json: #"{"name":"staging","cloud":"gcp","mode":"provided"}"#)
            #expect(try globex.decode(Environment.self).namespace == "qbeast", "the default namespace")
            try await body(fixture)
        }
    }

    func desired(_ client: TestHTTPClient) async throws -> DesiredState {
        try await client.request(.GET, "/agent/v1/desired?timeout=0", token: nil).decode(DesiredState.self)
    }

    @Test func workspacePutResolvesAndTheAgentFetchesComponentsByHash() async throws {
        try await withEnvironments { fixture in
            let acme = try fixture.agentClient("acme-prod")
            let globex = try fixture.agentClient("globex-staging")
            let applied = try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec())
            #expect(applied.status == 201, "\(applied.text)")
            let workspace = try #require(try await desired(acme).workspaces.first)
            #expect(workspace.components.map(\.name) == ["backend", "mcp"])
            #expect(workspace.components.map(\.objects) == [2, 1])

            // The hash is the content hash of the rewritten manifests, as the agent will compute it.
            let rewrittenPod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "mcp"],
                "spec": ["containers": [["name": "mcp", "image": "\(Self.registry)/qbeast/mcp:0.3.0"]]],
            ]
            #expect(workspace.components[1].hash == (try ResolvedComponent(name: "mcp", manifests: [rewrittenPod])).hash)

            for ref in workspace.components {
                let answer = try await acme.request(.GET, "/agent/v1/components/\(ref.hash)", token: nil)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(answer.headers["ETag"].first == "\"\(ref.hash)\"")
                #expect(answer.headers["Cache-Control"].first?.contains("immutable") == true)
                let component = try answer.decode(ResolvedComponent.self)
                try component.verify()
                #expect(component.kind == "ResolvedComponent" && component.ref == ref)
                let again = try await acme.request(.GET, "/agent/v1/components/\(ref.hash)", token: nil, headers: ["If-None-Match": "\"\(ref.hash)\""])
                #expect(again.status == 304)

                // Another environment's agent does not learn it exists.
                let foreign = try await globex.request(.GET, "/agent/v1/components/\(ref.hash)", token: nil)
                #expect(foreign.status == 404)
                #expect(foreign.headers["Content-Type"].first == "application/problem+json")
            }
            let backend = try await acme.request(.GET, "/agent/v1/components/\(workspace.components[0].hash)", token: nil)
                .decode(ResolvedComponent.self)
            let text = String(decoding: try StrictJSON.encode(backend.manifests), as: UTF8.self)
            #expect(text.contains("\(Self.registry)/qbeast/backend:1.4.2") && text.contains("\(Self.registry)/qbeast/backend-migrate:1.4.2"))
            #expect(!text.contains("ghcr.io/"))

            for bad in ["sha256:abc", "sha256:" + String(repeating: "A", count: 64), "md5:" + String(repeating: "a", count: 64), "x"] {
                let refused = try await acme.request(.GET, "/agent/v1/components/\(bad)", token: nil)
                #expect(refused.status == 400, "\(bad)")
                #expect(refused.problem?.detail.contains("64 lowercase hexadecimal digits") == true)
            }
            let unknown = try await acme.request(.GET, "/agent/v1/components/sha256:" + String(repeating: "0", count: 64), token: nil)
            #expect(unknown.status == 404)

            // The same spec again changes nothing.
            let same = try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec())
            #expect(same.status == 200)
            #expect(try same.decode(Workspace.self).generation == 1)
        }
    }

    @Test func aComponentThatDoesNotResolveIsRefusedAndNothingIsWritten() async throws {
        try await withEnvironments { fixture in
            let acme = try fixture.agentClient("acme-prod")
            #expect(try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec()).status == 201)
            let before = try await desired(acme)

            // helm fails (the stand-in refuses a version it does not render): its stderr is the detail.
            let failed = try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec(version: "9.9.9"))
            #expect(failed.status == 422)
            #expect(failed.headers["Content-Type"].first == "application/problem+json")
            let detail = try #require(failed.problem?.detail)
            #expect(
                detail.hasPrefix(#"component "backend": helm template failed (exit status 2): fake-helm: unexpected arguments: template backend"#), "\(detail)")
            #expect(detail.contains("--version 9.9.9"))

            // A manifest for another namespace.
            let elsewhere = try await fixture.operatorClient.request(
                .PUT, Self.workspacePath,
                json: Self.spec(
                    extra: """
                        ,{"name":"rogue","manifests":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}]}
                        """))
            #expect(elsewhere.status == 422)
            #expect(
                elsewhere.problem?.detail
                    == #"component "rogue": manifests[0] (ConfigMap "x") is in namespace "kube-system"; the agent installs only into its own namespace "team-a""#
            )

            // The previous generation is intact, and the agent was told nothing.
            let workspace = try await fixture.operatorClient.request(.GET, Self.workspacePath).decode(Workspace.self)
            #expect(workspace.generation == 1 && workspace.spec.components.count == 2)
            #expect(try await desired(acme) == before)
        }
    }

    @Test func withoutHelmChartsAreRefusedAndManifestsStillWork() async throws {
        try await withEnvironments(helm: { _ in nil }) { fixture in
            let refused = try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec())
            #expect(refused.status == 422)
            #expect(
                refused.problem?.detail
                    == "component \"backend\": rendering Helm charts needs the helm binary; none is configured (--helm-binary) or on PATH — use plain manifests or install helm"
            )
            #expect(try await fixture.operatorClient.request(.GET, Self.workspacePath).status == 404)
            let manifests = try await fixture.operatorClient.request(
                .PUT, Self.workspacePath,
                json: """
                    {"spec":{"components":[{"name":"mcp","manifests":[\(String(decoding: try StrictJSON.encode(Self.mcpPod), as: UTF8.self))]}]}}
                    """)
            #expect(manifests.status == 201, "\(manifests.text)")
        }
    }

    @Test func patchingTheRegistryReResolvesEveryWorkspaceAndWakesTheAgent() async throws {
        try await withEnvironments { fixture in
            let acme = try fixture.agentClient("acme-prod")
            #expect(try await fixture.operatorClient.request(.PUT, Self.workspacePath, json: Self.spec()).status == 201)
            let before = try await desired(acme)
            async let held = acme.request(.GET, "/agent/v1/desired?after=\(before.revision)&timeout=30", token: nil)
            try await eventually("long poll registered") { await fixture.controller.server.notifier.waiterCount == 1 }

            let patched = try await fixture.operatorClient.request(
                .PATCH, "/v1/tenants/acme/environments/prod",
                body: Data(#"{"registry":"\#(Self.otherRegistry)"}"#.utf8), contentType: "application/merge-patch+json")
            #expect(patched.status == 200, "\(patched.text)")
            let environment = try patched.decode(Environment.self)
            #expect(environment.registry == Self.otherRegistry && environment.namespace == "team-a")
            #expect(environment.desiredRevision > before.revision)

            let woken = try await held.decode(DesiredState.self)
            #expect(woken.revision == environment.desiredRevision)
            let after = try #require(woken.workspaces.first)
            #expect(after.generation == 2, "what the workspace resolves to changed")
            #expect(zip(after.components, before.workspaces[0].components).allSatisfy { $0.hash != $1.hash })
            let mcp = try await acme.request(.GET, "/agent/v1/components/\(after.components[1].hash)", token: nil).decode(ResolvedComponent.self)
            #expect(String(decoding: try StrictJSON.encode(mcp.manifests), as: UTF8.self).contains("\(Self.otherRegistry)/qbeast/mcp:0.3.0"))
            #expect(
                try await acme.request(.GET, "/agent/v1/components/\(before.workspaces[0].components[1].hash)", token: nil).status == 404,
                "components no workspace has any more are gone")

            // Invalid values are 422 and change nothing; unknown fields are refused.
            let invalid = try await fixture.operatorClient.request(
                .PATCH, "/v1/tenants/acme/environments/prod", json: #"{"registry":"europe-west1-docker.pkg.dev/acme-data/ghcr"}"#)
            #expect(invalid.status == 422)
            #expect(invalid.problem?.detail.contains("<12-digit account>.dkr.ecr.<region>.amazonaws.com/<prefix>") == true, "\(invalid.text)")
            #expect(try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"cloud":"gcp"}"#).status == 400)
            #expect(try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"namespace":"Team A"}"#).status == 422)

            // A namespace the chart cannot be rendered for (the stand-in renders for team-a only): 422
            // naming workspace and component, and nothing changes.
            let unchanged = try await desired(acme)
            let moved = try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"namespace":"team-b"}"#)
            #expect(moved.status == 422)
            #expect(moved.problem?.detail.hasPrefix(#"workspace "analytics", component "backend": helm template failed"#) == true, "\(moved.text)")
            #expect(try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self).namespace == "team-a")
            #expect(try await desired(acme) == unchanged)

            // Removing the registry leaves images as given.
            let removed = try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"registry":null}"#)
            #expect(removed.status == 200)
            #expect(try removed.decode(Environment.self).registry == nil)
            let plain = try await desired(acme)
            #expect(plain.workspaces[0].components[1].hash == (try ResolvedComponent(name: "mcp", manifests: [Self.mcpPod])).hash)

            // A patch that changes nothing does not move the revision.
            let noop = try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"namespace":"team-a"}"#)
            #expect(noop.status == 200)
            #expect(try noop.decode(Environment.self).desiredRevision == plain.revision)
            #expect(try await fixture.operatorClient.request(.PATCH, "/v1/tenants/acme/environments/nope", json: "{}").status == 404)
        }
    }
}
