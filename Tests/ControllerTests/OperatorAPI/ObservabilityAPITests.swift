import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// `observability` on the environment and Qbeast's support-access requests through the operator API,
/// on both stores: the stack becomes the reserved workspace, bad settings are refused naming the
/// field, and the controller side has no way to grant access.
@Suite struct ObservabilityAPITests {
    static let environment = "/v1/tenants/acme/environments/prod"

    @Test(arguments: TestStoreKind.allCases) func enablingChangingAndDisablingTheStack(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            let enabled = try await api.request(.PATCH, Self.environment, json: #"{"observability":{"enabled":true,"metricsRetention":"90d"}}"#)
            #expect(enabled.status == 200)
            #expect(try enabled.decode(Environment.self).observability?.metricsRetention == "90d")
            let workspace = try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").decode(Workspace.self)
            #expect(workspace.spec.components.map(\.name) == ["observability"])
            #expect(try await api.request(.GET, Self.environment).decode(Environment.self).observability?.enabled == true)

            // Changing the settings moves the stack's generation; the same settings again do not.
            _ = try await api.request(.PATCH, Self.environment, json: #"{"observability":{"enabled":true,"metricsRetention":"30d"}}"#)
            let changed = try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").decode(Workspace.self)
            #expect(changed.generation == workspace.generation + 1)
            _ = try await api.request(.PATCH, Self.environment, json: #"{"observability":{"enabled":true,"metricsRetention":"30d"}}"#)
            #expect(try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").decode(Workspace.self).generation == changed.generation)

            // A registry change reaches the stack's images too.
            let registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
            #expect(try await api.request(.PATCH, Self.environment, json: #"{"registry":"\#(registry)"}"#).status == 200)
            #expect(try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").decode(Workspace.self).generation > changed.generation)

            let disabled = try await api.request(.PATCH, Self.environment, json: #"{"observability":null}"#)
            #expect(try disabled.decode(Environment.self).observability == nil)
            #expect(try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").status == 404)
        }
    }

    @Test func badSettingsAndGrantsAreRefusedWithTheReason() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            let cases: [(String, String)] = [
                (#"{"observability":{"enabled":true,"logsRetention":"forever"}}"#, "observability.logsRetention"),
                (#"{"observability":{"enabled":true,"metricsStorage":"1TB"}}"#, "observability.metricsStorage"),
                (#"{"observability":{"enabled":true,"login":{"issuer":"http://insecure.example/"}}}"#, "observability.login.issuer"),
                (#"{"observability":{"enabled":true,"retention":"30d"}}"#, "retention"),
                (#"{"observability":{"enabled":true,"supportAccess":{"enabled":true}}}"#, "only the customer grants it"),
            ]
            for (body, expected) in cases {
                let response = try await api.request(.PATCH, Self.environment, json: body)
                #expect(response.status == 400, "\(body)")
                #expect(response.problem?.detail.contains(expected) == true, "\(body): \(response.problem?.detail ?? "")")
            }
            #expect(try await api.request(.GET, Self.environment + "/workspaces/qbeast-observability").status == 404)
            // Without the stack there is nothing to reach: a request is refused.
            let request = try await api.request(.POST, Self.environment + "/support-access-request", json: #"{"reason":"look at jobs"}"#)
            #expect(request.status == 409)
            // The reserved workspace is written only through the environment.
            #expect(try await api.request(.DELETE, Self.environment + "/workspaces/qbeast-observability").status == 400)
        }
    }

    @Test func onlyQbeastRolesMayRequestAccessAndTheRequestIsAudited() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            try await fixture.mustSucceed(.PATCH, Self.environment, json: #"{"observability":{"enabled":true}}"#)
            let editor = try await api.request(.POST, "/v1/tokens", json: #"{"name":"eng-acme","role":"editor","tenant":"acme"}"#).decode(APIToken.self)
            let refused = try await api.request(
                .POST, Self.environment + "/support-access-request", body: Data(#"{"reason":"x"}"#.utf8), token: editor.token)
            #expect(refused.status == 403)
            for bad in [#"{"reason":""}"#, #"{"reason":"two\nlines"}"#, #"{"reason":"x","until":"2026-12-05T18:00:00Z"}"#] {
                #expect(try await api.request(.POST, Self.environment + "/support-access-request", json: bad).status == 400, "\(bad)")
            }
            let accepted = try await api.request(.POST, Self.environment + "/support-access-request", json: #"{"reason":"jobs failing since 10:00"}"#)
            #expect(accepted.status == 202)
            let environment = try await api.request(.GET, Self.environment).decode(Environment.self)
            #expect(environment.supportAccessRequest?.reason == "jobs failing since 10:00")
            #expect(environment.supportAccessRequest?.requestedBy.hasPrefix("token:") == true)
            let audit = try await api.request(.GET, "/v1/audit").decode(ListResponse<AuditRecord>.self).items
            #expect(audit.contains { $0.action == "support-access-requested" && $0.target == "acme/prod" && $0.detail == "reason=jobs failing since 10:00" })
            // A request stays open until withdrawn.
            #expect(try await api.request(.DELETE, Self.environment + "/support-access-request").status == 204)
            #expect(try await api.request(.GET, Self.environment).decode(Environment.self).supportAccessRequest == nil)
            #expect(try await api.request(.DELETE, Self.environment + "/support-access-request").status == 404)
        }
    }
}
