import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The observability stack as the controller generates it: namespaced and confined, hardened pods,
/// no secret values, images through the environment's registry, the dashboards provisioned, the
/// support proxy marked for the agent's gate, and a scrape configuration VictoriaMetrics accepts.
@Suite struct ObservabilityStackTests {
    static let registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
    static let settings = EnvironmentSettings(namespace: "team-a", registry: registry)

    static func resolved(
        _ spec: ObservabilitySpec = ObservabilitySpec(enabled: true), request: SupportAccessRequest? = nil
    ) async throws -> ResolvedComponent {
        let resolver = ComponentResolver(helm: HelmRenderer(binary: nil))
        return try await resolver.resolve(
            ComponentSpec(name: "observability", observability: ObservabilityStackSource(spec: spec, supportAccessRequest: request)),
            for: settings)
    }

    static func kinds(_ manifests: [JSONValue]) -> [String] { manifests.compactMap { $0["kind"]?.stringValue } }

    static func podSpecs(_ manifests: [JSONValue]) -> [(String, JSONValue)] {
        manifests.compactMap { object in
            guard let spec = object["spec"]?["template"]?["spec"] else { return nil }
            return (object["metadata"]?["name"]?.stringValue ?? "?", spec)
        }
    }

    @Test func everythingIsNamespacedAndInTheAgentsNamespace() async throws {
        let manifests = try await Self.resolved().manifests
        #expect(Set(Self.kinds(manifests)).isDisjoint(with: ["ClusterRole", "ClusterRoleBinding", "DaemonSet", "Namespace", "Secret"]))
        for object in manifests {
            #expect(KubernetesObjectRules.refusal(of: object, namespace: "team-a") == nil, "\(object["metadata"]?["name"] ?? "?")")
            #expect(object["metadata"]?["namespace"]?.stringValue == "team-a")
        }
        #expect(Set(Self.kinds(manifests)).isSuperset(of: ["StatefulSet", "Deployment", "Service", "ConfigMap", "Role", "RoleBinding", "NetworkPolicy"]))
        // Discovery is a namespaced Role, read-only, bound to VictoriaMetrics' own service account.
        let role = try #require(manifests.first { $0["kind"] == "Role" })
        let verbs = Set(role["rules"]?.arrayValue?.flatMap { $0["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? [] } ?? [])
        #expect(verbs == ["get", "list", "watch"])
    }

    @Test func podsAreHardenedAndRequestResources() async throws {
        let pods = Self.podSpecs(try await Self.resolved().manifests)
        #expect(pods.count == 4)
        for (name, pod) in pods {
            #expect(pod["securityContext"]?["runAsNonRoot"] == true, "\(name)")
            for container in pod["containers"]?.arrayValue ?? [] {
                let security = container["securityContext"]
                #expect(security?["runAsNonRoot"] == true, "\(name)")
                #expect(security?["readOnlyRootFilesystem"] == true, "\(name)")
                #expect(security?["allowPrivilegeEscalation"] == false, "\(name)")
                #expect(security?["capabilities"]?["drop"] == ["ALL"], "\(name)")
                #expect(container["resources"]?["requests"]?["cpu"] != nil && container["resources"]?["requests"]?["memory"] != nil, "\(name)")
                #expect(container["resources"]?["limits"]?["memory"] != nil, "\(name)")
                #expect(container["image"]?.stringValue?.hasPrefix(Self.registry + "/") == true, "\(name): image through the registry")
            }
        }
    }

    @Test func noSecretValueIsInAnyObject() async throws {
        let spec = ObservabilitySpec(enabled: true, login: ObservabilityLogin(clientSecretName: "support-login"))
        let manifests = try await Self.resolved(spec).manifests
        for (name, pod) in Self.podSpecs(manifests) {
            for container in pod["containers"]?.arrayValue ?? [] {
                for variable in container["env"]?.arrayValue ?? [] {
                    let key = variable["name"]?.stringValue ?? ""
                    if key.contains("SECRET") || key.contains("PASSWORD") || key.contains("TOKEN") {
                        #expect(variable["value"] == nil, "\(name) \(key) carries a value")
                        #expect(variable["valueFrom"]?["secretKeyRef"]?["name"] == "support-login", "\(name) \(key)")
                    }
                }
                let arguments = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(!arguments.contains { $0.contains("secret=") }, "\(name) passes a secret as an argument")
            }
        }
        let grafana = try #require(manifests.first { $0["metadata"]?["name"] == "qbeast-grafana-config" }?["data"]?["grafana.ini"]?.stringValue)
        #expect(!grafana.contains("client_secret"))
        #expect(grafana.contains("[auth.anonymous]\nenabled = false"))
        #expect(grafana.contains("[auth.basic]\nenabled = false"))
        #expect(grafana.contains("use_pkce = true"))
        #expect(grafana.contains("auth_url = https://qbeast.eu.auth0.com/authorize"))
        #expect(grafana.contains("token_url = https://qbeast.eu.auth0.com/oauth/token"))
        #expect(grafana.contains("api_url = https://qbeast.eu.auth0.com/userinfo"))
    }

    @Test func datasourcesAndDashboardsAreProvisioned() async throws {
        let manifests = try await Self.resolved().manifests
        let datasources = try #require(manifests.first { $0["metadata"]?["name"] == "qbeast-grafana-datasources" }?["data"]?["datasources.yaml"]?.stringValue)
        #expect(datasources.contains("type: prometheus\n    access: proxy\n    url: http://qbeast-victoria-metrics:8428"))
        #expect(datasources.contains("type: victoriametrics-logs-datasource"))
        let dashboards = try #require(manifests.first { $0["metadata"]?["name"] == "qbeast-grafana-dashboards" }?["data"]?.objectValue)
        let repository = try FileManager.default.contentsOfDirectory(atPath: Self.repositoryRoot + "/dashboards").filter { $0.hasSuffix(".json") }
        #expect(!repository.isEmpty)
        #expect(Set(dashboards.keys) == Set(repository))
        for (name, text) in dashboards {
            let expected = try String(contentsOfFile: Self.repositoryRoot + "/dashboards/" + name, encoding: .utf8)
            #expect(
                text.stringValue == expected,
                "\(name): the controller's copy differs from dashboards/\(name); run cp dashboards/*.json Sources/Controller/Resources/dashboards/")
        }
    }

    @Test func theSupportProxyIsMarkedForTheAgentsGateAndTheRequestTravelsAsAConfigMap() async throws {
        let at = Date(timeIntervalSince1970: 1_780_000_000)
        let manifests = try await Self.resolved(request: SupportAccessRequest(reason: "jobs failing", requestedBy: "token:ops", requestedAt: at)).manifests
        let gated = manifests.filter { $0["metadata"]?["labels"]?[SupportAccessLabels.gate] == .string(SupportAccessLabels.gated) }
        #expect(
            Set(gated.map { "\($0["kind"]?.stringValue ?? "")/\($0["metadata"]?["name"]?.stringValue ?? "")" }) == [
                "Deployment/qbeast-support-proxy", "Service/qbeast-support-proxy",
            ])
        let proxyArgs =
            gated.first { $0["kind"] == "Deployment" }?["spec"]?["template"]?["spec"]?["containers"]?[0]?["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(proxyArgs.contains("--provider=oidc"))
        #expect(proxyArgs.contains("--oidc-issuer-url=https://qbeast.eu.auth0.com/"))
        #expect(proxyArgs.contains("--code-challenge-method=S256"))
        #expect(proxyArgs.contains("--upstream=http://qbeast-victoria-metrics:8428/vmui/"))
        #expect(proxyArgs.contains("--upstream=http://qbeast-victoria-logs:9428/select/"))
        let request = try #require(manifests.first { $0["metadata"]?["labels"]?[SupportAccessLabels.gate] == .string(SupportAccessLabels.request) })
        #expect(request["data"]?["reason"] == "jobs failing")
        #expect(request["data"]?["requestedBy"] == "token:ops")
        // Without a request there is no request object.
        #expect(try await Self.resolved().manifests.allSatisfy { $0["metadata"]?["labels"]?[SupportAccessLabels.gate] != .string(SupportAccessLabels.request) })
    }

    @Test func settingsReachTheServers() async throws {
        let spec = ObservabilitySpec(
            enabled: true, metricsRetention: "90d", logsRetention: "2w", metricsStorage: "50Gi", logsStorage: "10Gi", storageClass: "gp3")
        let manifests = try await Self.resolved(spec).manifests
        func statefulSet(_ name: String) -> JSONValue? { manifests.first { $0["kind"] == "StatefulSet" && $0["metadata"]?["name"] == .string(name) } }
        let metrics = try #require(statefulSet("qbeast-victoria-metrics"))
        #expect(metrics["spec"]?["template"]?["spec"]?["containers"]?[0]?["args"]?.arrayValue?.contains("-retentionPeriod=90d") == true)
        #expect(metrics["spec"]?["volumeClaimTemplates"]?[0]?["spec"]?["resources"]?["requests"]?["storage"] == "50Gi")
        #expect(metrics["spec"]?["volumeClaimTemplates"]?[0]?["spec"]?["storageClassName"] == "gp3")
        let logs = try #require(statefulSet("qbeast-victoria-logs"))
        #expect(logs["spec"]?["template"]?["spec"]?["containers"]?[0]?["args"]?.arrayValue?.contains("-retentionPeriod=2w") == true)
        #expect(logs["spec"]?["volumeClaimTemplates"]?[0]?["spec"]?["resources"]?["requests"]?["storage"] == "10Gi")
    }

    @Test(arguments: [
        (#"{"enabled": true, "metricsRetention": "30 days"}"#, "observability.metricsRetention"),
        (#"{"enabled": true, "logsStorage": "20GB"}"#, "observability.logsStorage"),
        (#"{"enabled": true, "login": {"issuer": "http://idp.example.com/"}}"#, "observability.login.issuer"),
        (#"{"enabled": true, "login": {"allowedDomains": ["Qbeast.IO"]}}"#, "observability.login.allowedDomains[0]"),
    ])
    func badSettingsAreRefusedNamingTheField(json: String, field: String) throws {
        let spec = try StrictJSON.decodeClosed(ObservabilitySpec.self, from: Data(json.utf8))
        #expect(throws: ValidationError.self) { try spec.validate() }
        do { try spec.validate() } catch { #expect(error.field == field) }
    }

    @Test func supportAccessCannotBeSetThroughTheSpec() {
        for json in [#"{"enabled": true, "supportAccess": {"enabled": true}}"#, #"{"enabled": true, "bogus": 1}"#] {
            #expect(throws: ValidationError.self) { _ = try StrictJSON.decodeClosed(ObservabilitySpec.self, from: Data(json.utf8)) }
        }
        do {
            _ = try StrictJSON.decodeClosed(ObservabilitySpec.self, from: Data(#"{"enabled": true, "supportAccess": true}"#.utf8))
        } catch {
            #expect(error.description.contains("only the customer grants it"))
        }
    }

    /// `victoria-metrics -promscrape.config=… -promscrape.config.dryRun` (Debian's package, strict
    /// parsing on by default) accepts the generated scrape configuration; a planted unknown field fails.
    @Test func victoriaMetricsAcceptsTheScrapeConfiguration() async throws {
        guard let binary = ["/usr/bin/victoria-metrics", "/usr/local/bin/victoria-metrics"].first(where: FileManager.default.isExecutableFile)
        else {
            print("skipped: victoria-metrics is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let manifests = try await Self.resolved().manifests
        let scrape = try #require(manifests.first { $0["metadata"]?["name"] == "qbeast-victoria-metrics-scrape" }?["data"]?["scrape.yml"]?.stringValue)
        #expect(scrape.contains("names: [\"team-a\"]"))
        #expect(try await Self.dryRun(binary, scrape).status == 0)
        let planted = scrape.replacingOccurrences(of: "target_label: pod\n", with: "target_lable: pod\n")
        let broken = try await Self.dryRun(binary, planted)
        #expect(broken.status != 0)
        #expect(broken.output.contains("target_lable"))
    }

    static func dryRun(_ binary: String, _ config: String) async throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scrape-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("scrape.yml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        return try await ChildProcess.run(
            binary,
            [
                "-promscrape.config=\(file.path)", "-promscrape.config.dryRun", "-promscrape.config.strictParse", "-loggerLevel=ERROR",
                "-storageDataPath=\(directory.appendingPathComponent("data").path)",
            ])
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}
