import Controller
import Foundation
import ServiceSupport
import Testing

/// `--crossplane-kubeconfig` and the `--managed-agent-…` flags: read when given, each refusal naming the flag.
@Suite struct CrossplaneSettingsTests {
    func resolve(_ settings: [String: String]) throws(ConfigurationError) -> ControllerConfiguration {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crossplane-settings-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        let ca = directory.appendingPathComponent("ca.pem").path
        try? """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://crossplane.example:6443"}}]
        users: [{name: u, user: {token: abc}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        try? "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
        let all = ["tlsCert": "c.pem", "tlsKey": "k.pem", "clientCA": ca, "adminToken": "0123456789abcdef0123", "crossplaneKubeconfig": kubeconfig]
            .merging(settings) { $1 }
        return try ControllerConfiguration.resolve { all[$0] }
    }

    let urls = ["managedAgentControllerUrl": "https://agents.qbeast.io:8444", "managedAgentEnrollUrl": "https://agents.qbeast.io:8445"]

    @Test func settingsAreReadWithDefaults() throws {
        #expect(
            try ControllerConfiguration.resolve { ["tlsCert": "c", "tlsKey": "k", "clientCA": "ca", "adminToken": "0123456789abcdef0123"][$0] }.crossplane
                == nil)
        let settings = try #require(try resolve(urls.merging(["crossplaneResync": "10s", "crossplaneNamespacePrefix": "qb-"]) { $1 }).crossplane)
        #expect(settings.connection.server == "https://crossplane.example:6443")
        #expect(settings.resync == .seconds(10) && settings.namespace(tenant: "acme") == "qb-acme")
        #expect(settings.agent.controllerURL == "https://agents.qbeast.io:8444" && settings.agent.chartRepository == "oci://ghcr.io/qbeast/charts")
        #expect(settings.agent.caBundle.contains("BEGIN CERTIFICATE"), "defaults to --client-ca")
    }

    @Test func refusalsNameTheFlag() {
        func refusal(_ settings: [String: String]) -> String? {
            do {
                _ = try resolve(settings)
                return nil
            } catch {
                return error.setting
            }
        }
        #expect(refusal([:]) == "managedAgentControllerUrl")
        #expect(refusal(urls.merging(["managedAgentEnrollUrl": "http://agents:8445"]) { $1 }) == "managedAgentEnrollUrl")
        #expect(refusal(urls.merging(["crossplaneKubeconfig": "/nonexistent/kubeconfig"]) { $1 }) == "crossplaneKubeconfig")
        #expect(refusal(urls.merging(["managedAgentChartRepository": "ghcr.io/qbeast"]) { $1 }) == "managedAgentChartRepository")
        #expect(refusal(urls.merging(["crossplaneNamespacePrefix": "Bad_"]) { $1 }) == "crossplaneNamespacePrefix")
    }
}
