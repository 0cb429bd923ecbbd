import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The operator API against the real controller on loopback HTTPS.
@Suite struct OperatorAPITests {
    @Test(arguments: TestStoreKind.allCases) func refusesMissingAndWrongTokens(_ kind: TestStoreKind) async throws {
        try await withController(store: kind) { fixture in
            let client = fixture.operatorClient
            let missing = try await client.request(.GET, "/v1/tenants", token: nil)
            #expect(missing.status == 401)
            #expect(missing.headers["Content-Type"].first == "application/problem+json")
            #expect(missing.headers["WWW-Authenticate"].first?.hasPrefix("Bearer") == true)
            #expect(missing.problem?.detail.contains("Authorization") == true)

            let wrong = try await client.request(.GET, "/v1/tenants", token: "not-the-token")
            #expect(wrong.status == 401)
            #expect(wrong.problem?.detail == "the bearer token is not valid")

            let created = try await client.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#, token: "nope")
            #expect(created.status == 401)
            let list = try await client.request(.GET, "/v1/tenants").decode(ListResponse<Tenant>.self)
            #expect(list.items.isEmpty)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func badInputIsRefusedWithUsefulDetailAndNothingStored(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, bodyLimit: 4096) { fixture in
            let client = fixture.operatorClient
            let cases: [(String, Int, String)] = [
                (#"{"name":"acme""#, 400, "not valid JSON"),
                (#"{"name":"acme","colour":"blue"}"#, 400, "colour: unknown field"),
                (#"{"name":"Acme_Corp"}"#, 400, "DNS-1123"),
                (#"{"displayName":"x"}"#, 400, "name: required field is missing"),
                (#"["acme"]"#, 400, "expected"),
                (#"{"name":"acme","displayName":"\#(String(repeating: "x", count: 5000))"}"#, 413, "4096-byte limit"),
            ]
            for (body, status, detail) in cases {
                let response = try await client.request(.POST, "/v1/tenants", json: body)
                #expect(response.status == status, "body \(body.prefix(40))")
                #expect(response.headers["Content-Type"].first == "application/problem+json")
                #expect(response.problem?.detail.contains(detail) == true, "detail was \(response.problem?.detail ?? response.text)")
            }
            let wrongType = try await client.request(.POST, "/v1/tenants", body: Data(#"{"name":"acme"}"#.utf8), contentType: "text/plain")
            #expect(wrongType.status == 415)
            let empty = try await client.request(.POST, "/v1/tenants", body: Data())
            #expect(empty.status == 400)

            let list = try await client.request(.GET, "/v1/tenants").decode(ListResponse<Tenant>.self)
            #expect(list.items.isEmpty)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func tenantEnvironmentWorkspaceLifecycle(_ kind: TestStoreKind) async throws {
        try await withController(store: kind) { fixture in
            let client = fixture.operatorClient
            #expect(try await client.request(.POST, "/v1/tenants", json: #"{"name":"acme","displayName":"ACME"}"#).status == 201)
            let duplicate = try await client.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.problem?.detail == "tenant \"acme\" already exists")

            let environment = try await client.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            #expect(environment.status == 201)
            #expect(environment.headers["Location"].first == "/v1/tenants/acme/environments/prod")
            let badCloud = try await client.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"x","cloud":"ibm","mode":"provided"}"#)
            #expect(badCloud.status == 400)
            let noTenant = try await client.request(.POST, "/v1/tenants/nobody/environments", json: #"{"name":"x","cloud":"gcp","mode":"managed"}"#)
            #expect(noTenant.status == 404)
            #expect(noTenant.problem?.detail == "tenant \"nobody\" not found")

            let path = "/v1/tenants/acme/environments/prod/workspaces/analytics"
            let spec = #"{"spec":{"components":[{"name":"backend","manifests":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}]}]}}"#
            let created = try await client.request(.PUT, path, json: spec)
            #expect(created.status == 201)
            #expect(try created.decode(Workspace.self).generation == 1)
            let same = try await client.request(.PUT, path, json: spec)
            #expect(same.status == 200)
            #expect(try same.decode(Workspace.self).generation == 1)
            let changed = try await client.request(.PUT, path, json: #"{"spec":{"components":[]}}"#)
            #expect(try changed.decode(Workspace.self).generation == 2)

            let mismatch = try await client.request(.PUT, path, json: #"{"tenant":"globex","spec":{}}"#)
            #expect(mismatch.status == 400)
            #expect(mismatch.problem?.detail.contains("does not match") == true)
            let serverField = try await client.request(.PUT, path, json: #"{"generation":7,"spec":{}}"#)
            #expect(serverField.status == 400)
            #expect(try await client.request(.GET, path).decode(Workspace.self).generation == 2)

            let blocked = try await client.request(.DELETE, "/v1/tenants/acme/environments/prod")
            #expect(blocked.status == 409)
            #expect(try await client.request(.DELETE, path).status == 204)
            #expect(try await client.request(.GET, path).status == 404)
            #expect(try await client.request(.DELETE, "/v1/tenants/acme/environments/prod").status == 204)
            #expect(try await client.request(.DELETE, "/v1/tenants/acme").status == 204)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func unknownRoutesAndBadPathNamesAnswerProblems(_ kind: TestStoreKind) async throws {
        try await withController(store: kind) { fixture in
            let client = fixture.operatorClient
            let missing = try await client.request(.GET, "/v1/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.headers["Content-Type"].first == "application/problem+json")
            let badName = try await client.request(.GET, "/v1/tenants/NOT_OK")
            #expect(badName.status == 400)
            #expect(badName.problem?.detail.contains("tenant") == true)
            let badQuery = try await client.request(.GET, "/v1/alerts?severity=critical")
            #expect(badQuery.status == 400)
            #expect(badQuery.problem?.detail.contains("unknown query parameter") == true)
        }
    }
}
