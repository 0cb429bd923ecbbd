import Agent
import Foundation
import KubernetesAPI
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Synchronization

/// Resolved components served from memory, as the controller would serve them; counts fetches.
final class StaticComponentSource: ComponentSource {
    private let components = Mutex<[String: ResolvedComponent]>([:])
    private let fetchCount = Atomic<Int>(0)

    func add(_ component: ResolvedComponent) { components.withLock { $0[component.hash] = component } }
    var fetches: Int { fetchCount.load(ordering: .relaxed) }

    func component(hash: String) async throws -> ResolvedComponent {
        fetchCount.add(1, ordering: .relaxed)
        guard let component = components.withLock({ $0[hash] }) else {
            throw KubernetesAPIError(code: 404, reason: "NotFound", message: "no component \(hash)")
        }
        return component
    }
}

/// An installer against the test Kubernetes API server, with a manual clock and its own state directory.
struct InstallHarness {
    static let namespace = "qbeast"
    let server: KubernetesTestServer
    let directory: TemporaryDirectory
    let source: StaticComponentSource
    let clock: ManualTimeSource
    var installer: ComponentInstaller
    let client: KubernetesClient

    static func start(settings: InstallSettings = InstallSettings()) async throws -> InstallHarness {
        let server = await KubernetesTestServer.start()
        let directory = try TemporaryDirectory()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: namespace, credential: .token("test-token")))
        let source = StaticComponentSource()
        let clock = ManualTimeSource()
        var logger = Logger(label: "install-test")
        logger.logLevel = .critical
        let installer = try ComponentInstaller(
            client: client, source: source, stateDirectory: URL(fileURLWithPath: directory.path("agent")),
            settings: settings, clock: clock, logger: logger)
        return InstallHarness(server: server, directory: directory, source: source, clock: clock, installer: installer, client: client)
    }

    /// A new installer on the same state directory: what a restarted agent process sees.
    func restarted() async throws -> InstallHarness {
        var logger = Logger(label: "install-test")
        logger.logLevel = .critical
        var copy = self
        copy.installer = try ComponentInstaller(
            client: client, source: source, stateDirectory: URL(fileURLWithPath: directory.path("agent")),
            clock: clock, logger: logger)
        return copy
    }

    func stop() async throws {
        try await client.shutdown()
        try await server.stop()
        directory.remove()
    }

    /// Registers components with the source and returns the desired workspace naming them.
    func workspace(name: String = "analytics", generation: Int64 = 1, _ components: [String: [JSONValue]]) throws -> DesiredWorkspace {
        let resolved = try components.keys.sorted().map { try ResolvedComponent(name: $0, manifests: components[$0]!) }
        resolved.forEach(source.add)
        return DesiredWorkspace(name: name, generation: generation, components: resolved.map(\.ref), ruleGroups: [], alertAllowlist: nil)
    }

    func report(_ workspace: DesiredWorkspace) async -> InstallReport { await installer.report(for: workspace, now: clock.now()) }

    func deployment(_ name: String) -> JSONValue? {
        server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: Self.namespace, name: name)
    }

    func configMap(_ name: String) -> JSONValue? {
        server.object(apiVersion: "v1", kind: "ConfigMap", namespace: Self.namespace, name: name)
    }

    /// PATCH requests (applies) the server saw since the log was last reset.
    var applies: [KubernetesTestServer.RecordedRequest] { server.requests.filter { $0.method == "PATCH" } }

    /// Sets a Deployment's status as its controller would after a finished rollout.
    func rollOut(_ name: String, replicas: Int = 1) {
        let generation = deployment(name)?["metadata"]?["generation"] ?? 1
        server.setStatus(
            apiVersion: "apps/v1", kind: "Deployment", namespace: Self.namespace, name: name,
            status: [
                "observedGeneration": generation, "replicas": .number(Double(replicas)), "updatedReplicas": .number(Double(replicas)),
                "readyReplicas": .number(Double(replicas)), "availableReplicas": .number(Double(replicas)),
                "conditions": [["type": "Available", "status": "True"], ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"]],
            ])
    }
}

enum Manifests {
    static func deployment(_ name: String, image: String = "ghcr.io/qbeast/backend:1.0", replicas: Int = 1) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .number(Double(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "main", "image": .string(image)]]],
                ],
            ],
        ]
    }

    static func configMap(_ name: String, _ data: [String: String] = ["mode": "prod"]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": .object(data.mapValues { .string($0) })]
    }

    static func service(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)],
            "spec": ["ports": [["port": 80, "targetPort": 8080]]],
        ]
    }
}
