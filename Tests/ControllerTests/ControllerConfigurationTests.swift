import Controller
import Foundation
import ServiceSupport
import SplitPlaneProtocol
import Testing

/// The layered settings (flag, `QBEAST_…` environment, YAML file) turned into a configuration, each
/// refusal naming the setting the way the user wrote it.
struct ControllerConfigurationTests {
    let required = ["tlsCert": "c.pem", "tlsKey": "k.pem", "clientCA": "ca.pem", "adminToken": "0123456789abcdef0123"]

    func resolve(_ settings: [String: String], list: [String: [String]] = [:]) throws(ConfigurationError) -> ControllerConfiguration {
        let all = required.merging(settings) { $1 }
        return try ControllerConfiguration.resolve({ all[$0] }, list: { list[$0] ?? [] })
    }

    func refusal(_ settings: [String: String]) -> String? {
        do {
            _ = try resolve(settings)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func defaultsAreLoopbackAndDocumented() throws {
        let configuration = try resolve([:])
        #expect(configuration.operatorListen == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(configuration.agentListen.port == 8444)
        #expect(configuration.enrollListen.port == 8445)
        #expect(configuration.metricsListen.port == 9090)
        #expect(configuration.databasePath == ".data/controller/controller.sqlite")
        #expect(configuration.trustDomain == "qbeast.dev")
        #expect(configuration.maxPollTimeout == .seconds(30))
        #expect(configuration.bodyLimit == 1 << 20)
        #expect(configuration.alertLimits == .default)
        #expect(configuration.agentLimits.handshakeTimeout == .seconds(10))
        #expect(configuration.agentLimits.maxConnectionsPerCertificate == 16)
        #expect(configuration.operatorLimits.maxConnections == 1024)
        #expect(configuration.oidc == nil)
    }

    @Test func everySettingIsRead() throws {
        let configuration = try resolve([
            "operatorListen": "0.0.0.0:9443", "database": "postgres://u:p@db:5432/q", "trustDomain": "prod.qbeast.io", "maxPollTimeout": "45s",
            "bodyLimit": "2048", "agentCertLifetime": "12h", "alertMaxLabels": "32", "alertMaxSize": "4096", "tlsHandshakeTimeout": "5s",
            "idleTimeout": "2m", "agentMaxConnectionsPerCertificate": "4", "enrollMaxConnections": "10",
        ])
        #expect(configuration.operatorListen == ListenAddress(host: "0.0.0.0", port: 9443))
        #expect(configuration.databasePath.hasPrefix("postgres://"))
        #expect(configuration.trustDomain == "prod.qbeast.io")
        #expect(configuration.maxPollTimeout == .seconds(45))
        #expect(configuration.bodyLimit == 2048)
        #expect(configuration.agentCertificateLifetime == 12 * 3600)
        #expect(configuration.alertLimits.maxLabels == 32)
        #expect(configuration.alertLimits.maxAlertSize == 4096)
        #expect(configuration.enrollLimits.handshakeTimeout == .seconds(5))
        #expect(configuration.operatorLimits.idleTimeout == .seconds(120))
        #expect(configuration.agentLimits.maxConnectionsPerCertificate == 4)
        #expect(configuration.enrollLimits.maxConnections == 10)
    }

    @Test func refusalsNameTheSetting() {
        let cases: [([String: String], String)] = [
            (["operatorListen": "nowhere"], "operatorListen: \"nowhere\" is not host:port"),
            (["trustDomain": "Qbeast.dev"], "trustDomain: \"Qbeast.dev\" is not a SPIFFE trust domain"),
            (["maxPollTimeout": "soon"], "maxPollTimeout: \"soon\" is not a duration"),
            (["bodyLimit": "10"], "bodyLimit: \"10\" is not a whole number of at least 1024"),
            (["agentCertLifetime": "1m"], "agentCertLifetime: \"1m\" is not a duration of at least 5m"),
            (["caCert": "ca.pem"], "caKey: --ca-cert and --ca-key go together"),
            (["database": "postgres://"], "database:"),
            (["alertMaxLabels": "1"], "alertMaxLabels: \"1\" is not a whole number of at least 2"),
            (["idleTimeout": "0s"], "idleTimeout: \"0s\" is not a duration of at least 1s"),
            (["adminToken": "short"], "adminToken: tokens must be at least 16 characters"),
            (["oidcIssuer": "https://login.example.com"], "oidcAudience: required with --oidc-issuer"),
            (["helmBinary": "/nonexistent/helm"], "helmBinary: /nonexistent/helm is not an executable file"),
        ]
        for (settings, message) in cases {
            #expect(refusal(settings)?.hasPrefix(message) == true, "\(settings): \(refusal(settings) ?? "accepted")")
        }
        #expect(throws: ConfigurationError.self) {
            try ControllerConfiguration.resolve({ ["tlsCert": "c", "tlsKey": "k", "clientCA": "ca"][$0] })
        }
    }

    @Test func oidcRolesComeFromTheRepeatedFlagOrACommaList() throws {
        let base = ["oidcIssuer": "https://login.example.com", "oidcAudience": "qbeast", "oidcJwksUrl": "https://login.example.com/jwks"]
        let fromFlags = try resolve(base, list: ["oidcRole": ["sre=admin", "acme=viewer:acme"]])
        #expect(fromFlags.oidc?.roleMappings.count == 2)
        let fromList = try resolve(base.merging(["oidcRole": "sre=admin, acme=viewer:acme"]) { $1 })
        #expect(fromList.oidc?.roleMappings.count == 2)
    }
}
