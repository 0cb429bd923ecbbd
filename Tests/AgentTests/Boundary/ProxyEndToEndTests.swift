import Foundation
import Logging
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

@testable import Agent

/// The agent behind a corporate HTTPS proxy: a real tinyproxy (Debian's) on loopback, the real
/// controller, the real VictoriaMetrics. Every controller connection is a CONNECT tunnel with mutual TLS
/// inside; the metrics store stays direct.
@Suite(.serialized) struct ProxyEndToEndTests {
    let spec = """
        {"spec":{"ruleGroups":[{"name":"g","interval":"1s","rules":[
          {"alert":"First","expr":"qbeast_proxy_first == 1","labels":{"severity":"warning"}},
          {"alert":"Second","expr":"qbeast_proxy_second == 1","labels":{"severity":"critical"}}]}]}}
        """

    func series(_ name: String, vm: TestVictoriaMetrics) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await vm.importPrometheus((-4...20).map { #"\#(name){instance="a"} 1 \#(now + Int64($0) * 15_000)"# })
    }

    func alerts(_ api: TestHTTPClient, _ name: String) async throws -> [StoredAlert] {
        try await api.request(.GET, "/v1/alerts?tenant=acme").decode(ListResponse<StoredAlert>.self).items.filter { $0.labels["alertname"] == name }
    }

    @Test func enrollsPollsAndDeliversOnlyThroughTheProxyAndRecoversWhenItIsKilled() async throws {
        let proxy = try TestProxy()
        defer { proxy.remove() }
        try await proxy.ready()
        let vm = try await TestVictoriaMetrics.start()
        defer { vm.stop() }
        try await series("qbeast_proxy_first", vm: vm)

        try await withController(seed: .acmeProd) { f in
            let api = f.operatorClient
            #expect(try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: spec).status == 201)
            let token = try await api.request(.POST, "/v1/tenants/acme/environments/prod/enrollment-tokens", json: "{}").decode(EnrollmentToken.self)
            try token.token.write(toFile: f.directory.path("token"), atomically: true, encoding: .utf8)
            let outbound = try OutboundProxy.parse(proxy.url(), setting: "HTTPS_PROXY")
            let state = f.directory.path("agent")
            let tls = try await AgentEnrollment.credentials(
                stateDirectory: state, configured: nil, caBundle: f.pki.caBundle,
                enrollment: EnrollmentSettings(url: f.controller.enrollURL, tenant: "acme", environment: "prod", tokenFile: f.directory.path("token")),
                trustDomain: f.pki.trustDomain, logger: Logger(label: "test"), proxy: outbound)
            #expect(proxy.connects == ["localhost:\(f.controller.enrollPort)"], "enrollment went through the proxy")

            var configuration = AgentConfiguration(controllerURL: f.controller.agentURL, tls: tls, stateDirectory: state)
            configuration.proxy = outbound
            configuration.metricsStoreURL = vm.url
            configuration.heartbeatInterval = .seconds(1)
            configuration.pollTimeout = .seconds(2)
            configuration.retry = RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(500))
            let agent = try TestAgent.start(configuration: configuration)

            try await eventually(timeout: .seconds(20), "the first alert through the proxy") { try await alerts(api, "First").count == 1 }
            #expect(await agent.service.desired != nil, "the long poll came through the proxy")
            let tunnels = proxy.connects
            #expect(tunnels.contains("localhost:\(f.controller.agentPort)"))
            #expect(Set(tunnels) == ["localhost:\(f.controller.enrollPort)", "localhost:\(f.controller.agentPort)"], "only the controller is tunnelled")

            // The proxy dies: nothing reaches the controller (no direct connection is tried), alerts wait.
            proxy.stop()
            try await series("qbeast_proxy_second", vm: vm)
            try await eventually(timeout: .seconds(20), "the second alert waits in the outbox") { await agent.service.outbox.count > 0 }
            #expect(try await alerts(api, "Second").isEmpty, "no way round the proxy")

            try proxy.start()
            try await eventually(timeout: .seconds(30), "delivered once the proxy is back") {
                let waiting = await agent.service.outbox.count
                return try await alerts(api, "Second").count == 1 && waiting == 0
            }
            #expect(try await alerts(api, "First").count == 1, "nothing duplicated")
            #expect(try await alerts(api, "Second").count == 1, "nothing lost or duplicated")
            try await agent.stop()
        }
    }

    @Test func wrongProxyCredentialsAreAClearError() async throws {
        let proxy = try TestProxy(credentials: ("qbeast", "right-password"))
        defer { proxy.remove() }
        try await proxy.ready()
        try await withController(seed: .acmeProd) { f in
            var configuration = AgentConfiguration(
                controllerURL: f.controller.agentURL, tls: f.pki.agentTLS("acme-prod"), stateDirectory: f.directory.path("agent"))
            configuration.proxy = try OutboundProxy.parse(proxy.url(user: "qbeast", password: "wrong-password"), setting: "HTTPS_PROXY")
            let client = try ControllerClient(configuration: configuration)
            defer { Task { try? await client.shutdown() } }
            do {
                _ = try await client.desiredState(after: 0, timeout: .seconds(1))
                Issue.record("a proxy that wants other credentials let the agent through")
            } catch {
                // tinyproxy answers a CONNECT with wrong credentials 401 (squid: 407, "refused the credentials").
                #expect("\(error)".contains("refused or dropped the CONNECT tunnel to the controller (check the credentials in HTTPS_PROXY"), "\(error)")
                #expect(!"\(error)".contains("wrong-password"))
            }

            configuration.proxy = try OutboundProxy.parse(proxy.url(user: "qbeast", password: "right-password"), setting: "HTTPS_PROXY")
            let good = try ControllerClient(configuration: configuration)
            defer { Task { try? await good.shutdown() } }
            #expect(try await good.desiredState(after: 0, timeout: .seconds(1)).tenant == "acme", "the right credentials pass")
        }
    }
}
