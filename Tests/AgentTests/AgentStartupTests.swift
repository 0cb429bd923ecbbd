import Agent
import Foundation
import ServiceSupport
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// `qbeast-agent run`'s layered settings turned into its configuration and identity source, each
/// refusal naming the setting.
struct AgentStartupTests {
    let required = ["controllerUrl": "https://controller:8444", "caBundle": "ca.pem"]

    func resolve(_ settings: [String: String], environment: [String: String] = [:]) throws -> AgentStartup {
        let all = required.merging(settings) { $1 }
        return try AgentStartup.resolve({ all[$0] }, environment: environment)
    }

    func refusal(_ settings: [String: String]) -> String? {
        do {
            _ = try resolve(settings)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaults() throws {
        let startup = try resolve([:])
        #expect(startup.configuration.controllerURLs == ["https://controller:8444"])
        #expect(startup.configuration.tls.trustBundle == "ca.pem")
        #expect(startup.configuration.stateDirectory == ".data/agent")
        #expect(startup.configuration.metricsListen == ListenAddress(host: "127.0.0.1", port: 9091))
        #expect(startup.configuration.pollTimeout == .seconds(30))
        #expect(startup.configuration.kubernetes == nil, "outside a pod and without a kubeconfig, nothing is installed")
        #expect(startup.configuredTLS == nil && startup.enrollment == nil)
        #expect(startup.trustDomain == "qbeast.dev")
    }

    @Test func everySettingIsRead() throws {
        let startup = try resolve([
            "controllerUrl": "https://a:8444, https://b:8444", "stateDir": "/var/lib/qbeast", "metricsListen": "0.0.0.0:9100",
            "pollTimeout": "45s", "heartbeatInterval": "10s", "outboxMaxBatches": "50", "metricsStoreUrl": "http://vm:8428",
            "metricsStoreStep": "1m", "evaluationInterval": "30s", "ruleResendDelay": "2m", "driftInterval": "10m", "installInterval": "5s",
            "tlsCert": "a.pem", "tlsKey": "a-key.pem", "trustDomain": "prod.qbeast.io",
            "enrollUrl": "https://controller:8445", "tenant": "acme", "environment": "prod", "enrollmentTokenFile": "/run/token",
        ])
        let configuration = startup.configuration
        #expect(configuration.controllerURLs == ["https://a:8444", "https://b:8444"])
        #expect(configuration.stateDirectory == "/var/lib/qbeast")
        #expect(configuration.metricsListen.port == 9100)
        #expect(configuration.pollTimeout == .seconds(45) && configuration.heartbeatInterval == .seconds(10))
        #expect(configuration.outboxMaxBatches == 50)
        #expect(configuration.metricsStoreURL == "http://vm:8428" && configuration.metricsStoreStep == .seconds(60))
        #expect(configuration.defaultEvaluationInterval == .seconds(30) && configuration.ruleResendDelay == .seconds(120))
        #expect(configuration.install.driftInterval == .seconds(600) && configuration.installInterval == .seconds(5))
        #expect(startup.configuredTLS?.certificate == "a.pem")
        #expect(startup.enrollment?.proof == .tokenFile("/run/token"))
        #expect(startup.trustDomain == "prod.qbeast.io")
    }

    @Test func refusalsNameTheSetting() {
        let cases: [([String: String], String)] = [
            (["controllerUrl": "http://controller:8444"], "controllerUrl: \"http://controller:8444\" must be an https:// URL"),
            (["controllerUrl": " , "], "controllerUrl: no URL given"),
            (["pollTimeout": "0s"], "pollTimeout: \"0s\" is not a positive duration"),
            (["heartbeatInterval": "often"], "heartbeatInterval: \"often\" is not a duration"),
            (["metricsListen": "nowhere"], "metricsListen: \"nowhere\" is not host:port"),
            (["metricsStoreUrl": "vm:8428"], "metricsStoreUrl: must be an http(s):// URL"),
            (["outboxMaxBatches": "0"], "outboxMaxBatches: \"0\" is not a whole number of at least 1"),
            (["namespace": "Qbeast"], "namespace: \"Qbeast\" is not a DNS-1123 label"),
            (["tlsCert": "a.pem"], "tlsKey: --tls-cert and --tls-key go together"),
            (["trustDomain": "QBEAST.dev"], "trustDomain: \"QBEAST.dev\" is not a SPIFFE trust domain"),
            (["enrollUrl": "http://controller:8445"], "enrollUrl: must be an https:// URL"),
            (["enrollUrl": "https://controller:8445"], "tenant: required with --enroll-url"),
            (["enrollUrl": "https://c:8445", "tenant": "acme", "environment": "prod"], "enrollmentTokenFile: give exactly one of"),
            (["boundaryFile": "/nonexistent/boundary.yaml"], "boundaryFile: cannot read /nonexistent/boundary.yaml"),
            (["egressJournalBodies": "yes"], "egressJournalBodies: \"yes\" is not true or false"),
            (["egressJournalMaxBytes": "100"], "egressJournalMaxBytes: \"100\" is not a whole number of at least 4096"),
            (["deploymentName": "Qbeast_Agent"], "deploymentName: \"Qbeast_Agent\" is not a Kubernetes object name"),
        ]
        for (settings, message) in cases {
            #expect(refusal(settings)?.hasPrefix(message) == true, "\(settings): \(refusal(settings) ?? "accepted")")
        }
        #expect(throws: ConfigurationError.self) { try AgentStartup.resolve({ _ in nil }) }
    }

    @Test func theCustomersControlsAreRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "extraLabels: [team]\nredactPatterns: ['secret-[a-z]+']\nonViolation: redact\n".write(
            toFile: directory.path("boundary.yaml"), atomically: true, encoding: .utf8)
        let startup = try resolve(
            ["boundaryFile": directory.path("boundary.yaml"), "egressJournalBodies": "true", "deploymentName": "qbeast-agent"],
            environment: ["HTTPS_PROXY": "http://u:p@proxy.corp:3128", "NO_PROXY": "vm.internal"])
        let configuration = startup.configuration
        #expect(configuration.boundary.labels.contains("team") && configuration.boundary.onViolation == .redact)
        #expect(configuration.boundary.redact("a secret-db").text == "a [redacted]")
        #expect(configuration.proxy == OutboundProxy(host: "proxy.corp", port: 3128, username: "u", password: "p", noProxy: ["vm.internal"]))
        #expect(configuration.egressJournal.includeBodies)
        #expect(configuration.eventsRegarding == KubernetesEvent.Regarding(apiVersion: "apps/v1", kind: "Deployment", name: "qbeast-agent"))
        let defaults = try resolve([:]).configuration
        #expect(defaults.proxy == nil && !defaults.egressJournal.includeBodies && !defaults.boundary.sendSampleValue)
    }
}
