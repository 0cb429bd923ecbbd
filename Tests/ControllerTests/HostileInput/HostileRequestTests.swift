import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Requests an attacker holding a tenant's own credentials (or an agent certificate) can send: each is
/// refused with a reason, the controller keeps serving, and nothing already accepted is lost.
@Suite struct HostileRequestTests {
    let workspacePath = "/v1/tenants/acme/environments/prod/workspaces/analytics"

    func workspace(annotation: String) -> String {
        let rule = ["alert": "X", "expr": "up == 0", "annotations": ["summary": annotation]] as [String: Any]
        let body = ["spec": ["ruleGroups": [["name": "g", "rules": [rule]]]]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }

    @Test func deeplyNestedTemplatesAreA400NamingTheAnnotation() async throws {
        try await withController(seed: .acmeProd) { fixture in
            // The reported attack: ten thousand nested ifs, ~146 KiB.
            let attack = String(repeating: "{{if 1}}", count: 10_000) + "x" + String(repeating: "{{end}}", count: 10_000)
            let refused = try await fixture.operatorClient.request(.PUT, workspacePath, json: workspace(annotation: attack))
            #expect(refused.status == 400)
            #expect(
                refused.problem?.detail.hasPrefix("spec.ruleGroups[0].rules[0].annotations.summary: template: summary:") == true, "\(refused.text.prefix(300))")
            // Under the size limit, the nesting bound answers.
            let nested = String(repeating: "{{if 1}}", count: 65) + "x" + String(repeating: "{{end}}", count: 65)
            let deep = try await fixture.operatorClient.request(.PUT, workspacePath, json: workspace(annotation: nested))
            #expect(deep.status == 400)
            #expect(deep.problem?.detail.contains("nesting deeper than 64 levels") == true, "\(deep.text)")
            // Still serving, nothing stored.
            #expect(try await fixture.operatorClient.request(.GET, workspacePath).status == 404)
            #expect(try await fixture.operatorClient.request(.PUT, workspacePath, json: workspace(annotation: "{{ $labels.instance }} down")).status == 201)
        }
    }

    /// SQLite would keep a NUL, PostgreSQL would fail the write with a 500: refused before either sees it.
    @Test(arguments: TestStoreKind.allCases) func nulCharactersAreA400OnBothStores(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { fixture in
            let tenant = try await fixture.operatorClient.request(.POST, "/v1/tenants", json: #"{"name":"beta","displayName":"Beta\u0000Corp"}"#)
            #expect(tenant.status == 400)
            #expect(tenant.problem?.detail == "displayName: a string contains U+0000 (NUL), which no field accepts")
            #expect(try await fixture.operatorClient.request(.GET, "/v1/tenants/beta").status == 404)
            let silence = try await fixture.operatorClient.request(
                .POST, "/v1/silences",
                json: #"{"matchers":[{"name":"alertname","value":"x"}],"endsAt":"2100-01-01T00:00:00Z","comment":"\u0000"}"#)
            #expect(silence.status == 400)
        }
    }

    @Test func duplicateKeysAreRefusedOnEveryListener() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let tenant = try await fixture.operatorClient.request(.POST, "/v1/tenants", json: #"{"name":"a","name":"b"}"#)
            #expect(tenant.status == 400)
            #expect(tenant.problem?.detail == "name: duplicate key \"name\"")
            #expect(try await fixture.operatorClient.request(.GET, "/v1/tenants/a").status == 404)
            #expect(try await fixture.operatorClient.request(.GET, "/v1/tenants/b").status == 404)

            let agent = try fixture.agentClient("acme-prod")
            let status =
                #"{"apiVersion":"qbeast.io/agent/v1","kind":"StatusReport","kind":"Other","agent":{"instance":"i","version":"1","rulesLoaded":0,"desiredRevision":0},"workspaces":[]}"#
            let refused = try await agent.request(.PUT, "/agent/v1/status", body: Data(status.utf8), token: nil)
            #expect(refused.status == 400)
            #expect(refused.problem?.detail == "kind: duplicate key \"kind\"")
        }
    }

    @Test func alertsBeyondTheLimitsAreRefusedWithTheLimitNamed() async throws {
        try await withController(seed: .twoTenants, bodyLimit: 4 << 20) { fixture in
            let agent = try fixture.agentClient("acme-prod")
            func post(_ labels: [String: String], annotations: [String: String] = [:], sequence: Int64) async throws -> TestResponse {
                let alert = AgentAlert(
                    workspace: "analytics", state: .firing, labels: labels.merging(["alertname": "Big"]) { $1 },
                    annotations: annotations, startsAt: Date())
                return try await agent.request(.POST, "/agent/v1/alerts", encoding: AlertBatch(instance: "i", sequence: sequence, alerts: [alert]), token: nil)
            }
            // The reported alert: 100,000 labels, ~879 KiB.
            let huge = Dictionary(uniqueKeysWithValues: (0..<100_000).map { ("l\($0)", "v") })
            let refused = try await post(huge, sequence: 1)
            #expect(refused.status == 400)
            #expect(refused.problem?.detail == "alerts[0].labels: 100001 labels; the limit is 64 per alert")
            let many = Dictionary(uniqueKeysWithValues: (0..<64).map { ("l\($0)", "v") })
            #expect(try await post(many, sequence: 2).problem?.detail == "alerts[0].labels: 65 labels; the limit is 64 per alert")
            let longValue = try await post(["instance": String(repeating: "x", count: 2049)], sequence: 3)
            #expect(longValue.problem?.detail == "alerts[0].labels.instance: 2049 bytes; the limit is 2048 per label value")
            let longAnnotation = try await post([:], annotations: ["summary": String(repeating: "x", count: 8193)], sequence: 4)
            #expect(longAnnotation.problem?.detail == "alerts[0].annotations.summary: 8193 bytes; the limit is 8192 per annotation")
            let tooBig = try await post(Dictionary(uniqueKeysWithValues: (0..<20).map { ("l\($0)", String(repeating: "y", count: 2000)) }), sequence: 5)
            #expect(tooBig.problem?.detail.hasSuffix("the limit is 32768 per alert") == true, "\(tooBig.text)")
            let alerts = try await fixture.operatorClient.request(.GET, "/v1/alerts").decode(ListResponse<StoredAlert>.self)
            #expect(alerts.items.isEmpty)
            // A normal alert still goes through.
            #expect(try await post(["severity": "warning"], sequence: 6).status == 200)
        }
    }

    @Test func alertsForWorkspacesTheEnvironmentDoesNotHaveAreNotKept() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let agent = try fixture.agentClient("acme-prod")
            let alerts = ["analytics", "ghost"].map {
                AgentAlert(workspace: $0, state: .firing, labels: ["alertname": "Down", "where": $0], annotations: [:], startsAt: Date())
            }
            let answer = try await agent.request(.POST, "/agent/v1/alerts", encoding: AlertBatch(instance: "i", sequence: 1, alerts: alerts), token: nil)
            #expect(answer.status == 200)
            let receipt = try answer.decode(AlertBatchReceipt.self)
            #expect(receipt.refused == 1)
            #expect(receipt.duplicate == false)
            let stored = try await fixture.operatorClient.request(.GET, "/v1/alerts").decode(ListResponse<StoredAlert>.self)
            #expect(stored.items.map(\.workspace) == ["analytics"])
        }
    }

    @Test func manifestObjectsMustBeNamespacedAndNamedLikeKubernetesObjects() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let cases: [(String, String)] = [
                (#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"../../etc"}}"#, #"(ConfigMap "../../etc") has an invalid name"#),
                (#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}"#, "not a DNS-1123 subdomain"),
                (#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"1svc"}}"#, "DNS-1035 label"),
                (#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"admin"}}"#, "is cluster-scoped"),
                (#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}}"#, "is cluster-scoped"),
                (#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"Kube_System"}}"#, "invalid `metadata.namespace`"),
            ]
            for (manifest, detail) in cases {
                let body = #"{"spec":{"components":[{"name":"c","manifests":[\#(manifest)]}]}}"#
                let answer = try await fixture.operatorClient.request(.PUT, workspacePath, json: body)
                #expect(answer.status == 400, "\(manifest)")
                #expect(answer.problem?.detail.contains(detail) == true, "\(answer.text)")
                #expect(answer.problem?.detail.hasPrefix("spec.components[0].manifests[0]:") == true, "\(answer.text)")
            }
            let rbac =
                #"{"spec":{"components":[{"name":"c","manifests":[{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"system:reader"}}]}]}}"#
            #expect(try await fixture.operatorClient.request(.PUT, workspacePath, json: rbac).status == 201)
        }
    }

    @Test func alertListsTakeLimitAndCursorAsDocumented() async throws {
        try await withController(seed: .twoTenants) { fixture in
            let agent = try fixture.agentClient("acme-prod")
            let alerts = (0..<7).map { AgentAlert(workspace: "analytics", state: .firing, labels: ["alertname": "A\($0)"], annotations: [:], startsAt: Date()) }
            #expect(
                try await agent.request(.POST, "/agent/v1/alerts", encoding: AlertBatch(instance: "i", sequence: 1, alerts: alerts), token: nil).status == 200)
            let first = try await fixture.operatorClient.request(.GET, "/v1/alerts?limit=5")
            #expect(first.status == 200, "\(first.text)")
            let page = try first.decode(ListResponse<StoredAlert>.self)
            #expect(page.items.count == 5)
            let next = try #require(page.next)
            let rest = try await fixture.operatorClient.request(.GET, "/v1/alerts?limit=5&cursor=\(next)").decode(ListResponse<StoredAlert>.self)
            #expect(rest.items.count == 2)
            #expect(Set((page.items + rest.items).map(\.fingerprint)).count == 7)
            #expect(try await fixture.operatorClient.request(.GET, "/v1/alerts?colour=red").status == 400)
        }
    }
}
