import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// API tokens with roles: admin, operator, and tenant-scoped editor/viewer that meet other tenants as 404.
@Suite struct AccessControlTests {
    @Test func rolesLimitWhatATokenMaySeeAndDo() async throws {
        try await withController { fixture in
            let api = fixture.operatorClient
            for tenant in ["acme", "globex"] {
                try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"\#(tenant)"}"#)
                try await fixture.mustSucceed(.POST, "/v1/tenants/\(tenant)/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            }
            func token(_ json: String) async throws -> APIToken {
                let response = try await api.request(.POST, "/v1/tokens", json: json)
                #expect(response.status == 201, "\(response.text)")
                return try response.decode(APIToken.self)
            }
            let viewer = try await token(#"{"name":"support-acme","role":"viewer","tenant":"acme"}"#)
            let editor = try await token(#"{"name":"eng-acme","role":"editor","tenant":"acme"}"#)
            let op = try await token(#"{"name":"oncall","role":"operator"}"#)
            let secret = try #require(viewer.token)
            #expect(secret.hasPrefix("qbt_"))
            let listed = try await api.request(.GET, "/v1/tokens").decode(ListResponse<APIToken>.self).items
            #expect(listed.count == 3 && listed.allSatisfy { $0.token == nil }, "secrets are shown once, never listed")
            #expect(try await api.request(.POST, "/v1/tokens", json: #"{"name":"bad","role":"viewer"}"#).problem?.detail.contains("tenant") == true)
            #expect(try await api.request(.POST, "/v1/tokens", json: #"{"name":"bad","role":"operator","tenant":"acme"}"#).status == 400)

            func call(_ caller: APIToken, _ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> TestResponse {
                try await api.request(method, path, body: json.map { Data($0.utf8) }, token: caller.token)
            }
            // Viewer: its tenant only, read only.
            #expect(try await call(viewer, .GET, "/v1/tenants").decode(ListResponse<Tenant>.self).items.map(\.name) == ["acme"])
            #expect(try await call(viewer, .GET, "/v1/tenants/acme/environments").status == 200)
            #expect(try await call(viewer, .GET, "/v1/tenants/globex/environments").status == 404, "other tenants do not exist for it")
            let write = try await call(viewer, .PUT, "/v1/tenants/acme/environments/prod/workspaces/w", #"{"spec":{"components":[]}}"#)
            #expect(write.status == 403 && write.problem?.detail.contains("read-only") == true)
            #expect(try await call(viewer, .GET, "/v1/silences").status == 403)
            #expect(try await call(viewer, .GET, "/v1/alerts?tenant=globex").decode(ListResponse<StoredAlert>.self).items.isEmpty)
            // Editor: changes its tenant, nothing else.
            #expect(try await call(editor, .PUT, "/v1/tenants/acme/environments/prod/workspaces/w", #"{"spec":{"components":[]}}"#).status == 201)
            #expect(try await call(editor, .PUT, "/v1/tenants/globex/environments/prod/workspaces/w", #"{"spec":{"components":[]}}"#).status == 404)
            #expect(try await call(editor, .POST, "/v1/tenants", #"{"name":"initech"}"#).status == 403)
            #expect(try await call(editor, .DELETE, "/v1/tenants/acme").status == 403)
            #expect(try await call(editor, .GET, "/v1/tokens").status == 403)
            // Operator: every tenant, no token management.
            #expect(try await call(op, .POST, "/v1/tenants", #"{"name":"initech"}"#).status == 201)
            #expect(try await call(op, .GET, "/v1/tenants/globex/environments").status == 200)
            #expect(try await call(op, .GET, "/v1/tokens").status == 403)
            // Revoked: refused at once.
            #expect(try await api.request(.DELETE, "/v1/tokens/\(viewer.id)").status == 200)
            #expect(try await call(viewer, .GET, "/v1/tenants").status == 401)
            // Named in the audit log; stored only as a hash.
            let audit = try await api.request(.GET, "/v1/audit").decode(ListResponse<AuditRecord>.self).items
            #expect(audit.contains { $0.actor == "token:eng-acme" && $0.target == "/v1/tenants/acme/environments/prod/workspaces/w" && $0.result == "201" })
            // Stopped, so everything written is in the files.
            try await fixture.stopController()
            let database =
                try Data(contentsOf: URL(fileURLWithPath: fixture.databasePath))
                + ((try? Data(contentsOf: URL(fileURLWithPath: fixture.databasePath + "-wal"))) ?? Data())
            #expect(database.range(of: Data(secret.utf8)) == nil, "the token secret is not in the database")
        }
    }
}
