import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Two operators editing the same workspace: the second write, made on a stale read, is refused
/// with 412 instead of silently undoing the first.
@Suite struct ConditionalWriteTests {
    @Test(arguments: TestStoreKind.allCases) func ifMatchRefusesAWriteOnAStaleRead(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            let path = "/v1/tenants/acme/environments/prod/workspaces/analytics"
            func spec(_ mode: String) -> Data {
                Data(
                    #"{"spec":{"components":[{"name":"c","manifests":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"mode":"\#(mode)"}}]}]}}"#
                        .utf8)
            }

            // Create only: If-None-Match: *.
            let created = try await api.request(.PUT, path, body: spec("a"), headers: ["If-None-Match": "*"])
            #expect(created.status == 201)
            #expect(created.headers.first(name: "ETag") == "\"1\"")
            #expect(try await api.request(.PUT, path, body: spec("a"), headers: ["If-None-Match": "*"]).status == 412)

            // Alice and Bob both read generation 1; Alice writes first.
            let read = try await api.request(.GET, path)
            let tag = try #require(read.headers.first(name: "ETag"))
            let alice = try await api.request(.PUT, path, body: spec("alice"), headers: ["If-Match": tag])
            #expect(alice.status == 200)
            #expect(alice.headers.first(name: "ETag") == "\"2\"")
            let bob = try await api.request(.PUT, path, body: spec("bob"), headers: ["If-Match": tag])
            #expect(bob.status == 412)
            #expect(bob.text.contains("generation 2, not 1"))
            let stored = try await api.request(.GET, path).decode(Workspace.self)
            #expect(stored.spec.components[0].manifests?[0]["data"]?["mode"] == "alice")

            // Deletes too.
            #expect(try await api.request(.DELETE, path, headers: ["If-Match": "\"1\""]).status == 412)
            #expect(try await api.request(.PUT, path, body: spec("x"), headers: ["If-Match": "W/\"2\""]).status == 400)
            #expect(try await api.request(.DELETE, path, headers: ["If-Match": "\"2\""]).status == 204)

            // Environments: the tag follows the settings.
            let environment = try await api.request(.GET, "/v1/tenants/acme/environments/prod")
            let environmentTag = try #require(environment.headers.first(name: "ETag"))
            let patch = Data(#"{"namespace":"qbeast-prod"}"#.utf8)
            let patched = try await api.request(
                .PATCH, "/v1/tenants/acme/environments/prod", body: patch,
                contentType: "application/merge-patch+json", headers: ["If-Match": environmentTag])
            #expect(patched.status == 200)
            #expect(patched.headers.first(name: "ETag") != environmentTag)
            let stale = try await api.request(
                .PATCH, "/v1/tenants/acme/environments/prod", body: Data(#"{"namespace":"other"}"#.utf8),
                contentType: "application/merge-patch+json", headers: ["If-Match": environmentTag])
            #expect(stale.status == 412)
        }
    }
}
