import Agent
import Foundation
import KubernetesAPI
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Support access with the real agent, the real controller and the Kubernetes test server: off by
/// default, granted only by the customer's configuration, shown and audited upstream, ended by the
/// agent itself when its time passes (controller down), refused when the controller side tries.
@Suite(.timeLimit(.minutes(2))) struct SupportAccessEndToEndTests {
    static let proxy = "qbeast-support-proxy"

    struct Setup {
        let kubernetes: KubernetesTestServer
        let connection: KubernetesConnection
    }

    static func cluster(_ fixture: ControllerFixture) async throws -> Setup {
        let kubernetes = try await KubernetesTestServer.start(pki: fixture.pki)
        try "test-token".write(toFile: fixture.directory.path("sa-token"), atomically: true, encoding: .utf8)
        let connection = KubernetesConnection(
            server: kubernetes.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"), namespace: "qbeast",
            credential: .tokenFile(fixture.directory.path("sa-token")),
            certificateAuthorityPEM: Array(FileManager.default.contents(atPath: fixture.pki.caBundle)!))
        try await fixture.mustSucceed(.PATCH, "/v1/tenants/acme/environments/prod", json: #"{"observability":{"enabled":true}}"#)
        return Setup(kubernetes: kubernetes, connection: connection)
    }

    static func proxyPresent(_ kubernetes: KubernetesTestServer) -> Bool {
        kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: proxy) != nil
            || kubernetes.object(apiVersion: "v1", kind: "Service", namespace: "qbeast", name: proxy) != nil
    }

    static func environment(_ fixture: ControllerFixture) async throws -> Environment {
        try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/prod").decode(Environment.self)
    }

    static func audit(_ fixture: ControllerFixture) async throws -> [AuditRecord] {
        try await fixture.operatorClient.request(.GET, "/v1/audit?limit=500").decode(ListResponse<AuditRecord>.self).items
    }

    @Test func offByDefaultAndTheControllerCannotTurnItOn() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let setup = try await Self.cluster(fixture)
            defer { Task { try? await setup.kubernetes.stop() } }
            let agent = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"), heartbeat: .milliseconds(300), kubernetes: setup.connection)
            try await eventually(timeout: .seconds(30), "stack applied") {
                setup.kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "qbeast-grafana") != nil
            }
            try await eventually(timeout: .seconds(30), "support access reported") { try await Self.environment(fixture).agent?.supportAccess?.state == .off }
            #expect(!Self.proxyPresent(setup.kubernetes))
            #expect(try await Self.environment(fixture).observability?.enabled == true)

            // The controller side has no way to grant: the spec field, a gated object in a workspace,
            // the reserved workspace itself, a request body that tries to grant.
            let api = fixture.operatorClient
            let patch = try await api.request(
                .PATCH, "/v1/tenants/acme/environments/prod", json: #"{"observability":{"enabled":true,"supportAccess":{"enabled":true}}}"#)
            #expect(patch.status == 400)
            #expect(patch.problem?.detail.contains("only the customer grants it") == true)
            let sneaky = #"""
                {"spec":{"components":[{"name":"door","manifests":[{"apiVersion":"apps/v1","kind":"Deployment",
                  "metadata":{"name":"door","labels":{"qbeast.io/support-access":"gated"}},"spec":{}}]}]}}
                """#
            let workspace = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: sneaky)
            #expect(workspace.status == 400)
            #expect(workspace.problem?.detail.contains("qbeast.io/support-access is reserved") == true)
            let reserved = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/qbeast-observability", json: #"{"spec":{}}"#)
            #expect(reserved.status == 400)
            let grant = try await api.request(.POST, "/v1/tenants/acme/environments/prod/support-access-request", json: #"{"reason":"x","enabled":true}"#)
            #expect(grant.status == 400)
            #expect(grant.problem?.detail.contains("only the customer grants it") == true)

            // A request reaches the customer (an Event, the status) and grants nothing.
            let requested = try await api.request(
                .POST, "/v1/tenants/acme/environments/prod/support-access-request", json: #"{"reason":"optimisation jobs failing, ticket 4711"}"#)
            #expect(requested.status == 202)
            try await eventually(timeout: .seconds(30), "request shown") {
                try await Self.environment(fixture).agent?.supportAccess?.request?.reason == "optimisation jobs failing, ticket 4711"
            }
            try await eventually(timeout: .seconds(30), "request shown as an Event") {
                setup.kubernetes.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast").contains {
                    $0["reason"] == "SupportAccessRequested" && $0["note"]?.stringValue?.contains("ticket 4711") == true
                }
            }
            #expect(!Self.proxyPresent(setup.kubernetes))
            #expect(try await Self.environment(fixture).agent?.supportAccess?.state == .off)
            let audit = try await Self.audit(fixture)
            #expect(audit.contains { $0.action == "support-access-requested" && $0.actor.hasPrefix("token:") && $0.detail?.contains("ticket 4711") == true })
            try await eventually(timeout: .seconds(30), "request shown audited") {
                try await Self.audit(fixture).contains { $0.action == "support-access-request-shown" && $0.actor == "customer:acme/prod" }
            }
            try await agent.stop()
        }
    }

    @Test func aGrantOpensUntilItsTimeAndTheAgentClosesItAloneWhenTheControllerIsGone() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let setup = try await Self.cluster(fixture)
            defer { Task { try? await setup.kubernetes.stop() } }
            let clock = ManualTimeSource(now: Date())
            let until = clock.now().addingTimeInterval(4 * 3600)
            let agent = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"), heartbeat: .seconds(3600), kubernetes: setup.connection,
                supportAccess: SupportAccessGrant(enabled: true, until: until), clock: clock)
            try await eventually(timeout: .seconds(30), "proxy installed") { Self.proxyPresent(setup.kubernetes) }
            try await eventually(timeout: .seconds(30), "granted reported") {
                let access = try await Self.environment(fixture).agent?.supportAccess
                return access?.state == .granted && access?.proxyPresent == true
            }
            #expect(try await Self.environment(fixture).agent?.supportAccess?.until.map { abs($0.timeIntervalSince(until)) < 0.01 } == true)
            try await eventually(timeout: .seconds(30), "grant audited") {
                try await Self.audit(fixture).contains {
                    $0.action == "support-access-granted" && $0.actor == "customer:acme/prod" && $0.detail?.hasPrefix("until=") == true
                }
            }

            // The controller goes away; the grant's end passes; the agent removes the proxy by itself.
            try await fixture.stopController()
            clock.advance(by: .seconds(4 * 3600 + 1))
            try await eventually(timeout: .seconds(30), "proxy removed") { !Self.proxyPresent(setup.kubernetes) }
            #expect(await agent.service.installer?.supportAccessStatus().state == .expired)
            try await eventually(timeout: .seconds(30), "expiry shown as an Event") {
                setup.kubernetes.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast").contains { $0["reason"] == "SupportAccessExpired" }
            }
            #expect(setup.kubernetes.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "qbeast-grafana") != nil)
            try await agent.stop()
        }
    }

    @Test func theCustomerRevokesBeforeTheEnd() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let setup = try await Self.cluster(fixture)
            defer { Task { try? await setup.kubernetes.stop() } }
            let granted = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"), heartbeat: .milliseconds(300), kubernetes: setup.connection,
                supportAccess: SupportAccessGrant(enabled: true, until: Date().addingTimeInterval(24 * 3600)))
            try await eventually(timeout: .seconds(30), "proxy installed") { Self.proxyPresent(setup.kubernetes) }
            try await eventually(timeout: .seconds(30), "granted reported") { try await Self.environment(fixture).agent?.supportAccess?.state == .granted }
            try await granted.stop()
            // `helm upgrade … --set supportAccess.enabled=false` restarts the agent without the grant.
            let revoked = try TestAgent.start(
                pki: fixture.pki, agent: "acme-prod", controllerURL: fixture.controller.agentURL,
                stateDirectory: fixture.directory.path("agent"), heartbeat: .milliseconds(300), kubernetes: setup.connection)
            try await eventually(timeout: .seconds(30), "proxy removed") { !Self.proxyPresent(setup.kubernetes) }
            try await eventually(timeout: .seconds(30), "off reported") {
                let access = try await Self.environment(fixture).agent?.supportAccess
                return access?.state == .off && access?.proxyPresent == false
            }
            try await eventually(timeout: .seconds(30), "revocation audited") {
                try await Self.audit(fixture).contains { $0.action == "support-access-revoked" }
            }
            try await revoked.stop()
        }
    }
}
