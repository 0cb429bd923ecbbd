import Agent
import Foundation
import KubernetesAPI
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Synchronization

/// The agent converging a workspace of 20 components × 10 objects against the test Kubernetes API
/// server (a stand-in speaking the real wire format), from scratch and after a change to one
/// component; beside `kubectl apply --server-side` of the same 200 objects as the peer.
enum InstallBench {
    static let components = 20
    static let objectsPerComponent = 10

    struct Figures {
        var seconds: Double
        var requests: Int
        var applies: Int
    }

    final class Source: ComponentSource {
        let byHash: [String: ResolvedComponent]
        init(_ components: [ResolvedComponent]) { byHash = Dictionary(uniqueKeysWithValues: components.map { ($0.hash, $0) }) }
        func component(hash: String) async throws -> ResolvedComponent {
            guard let component = byHash[hash] else { throw KubernetesAPIError(code: 404, reason: "NotFound", message: hash) }
            return component
        }
    }

    /// Objects of one component: ConfigMaps, Services and Deployments, like a small chart renders.
    static func manifests(component: Int, version: Int) -> [JSONValue] {
        (0..<objectsPerComponent).map { index in
            let name = JSONValue.string("c\(component)-o\(index)")
            switch index % 3 {
            case 0: return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": name], "data": ["version": .string("\(version)")]]
            case 1: return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": name], "spec": ["ports": [["port": 80]], "selector": ["app": name]]]
            default:
                return [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": name],
                    "spec": [
                        "replicas": 1, "selector": ["matchLabels": ["app": name]],
                        "template": [
                            "metadata": ["labels": ["app": name]],
                            "spec": ["containers": [["name": "main", "image": .string("ghcr.io/qbeast/app:\(version)")]]],
                        ],
                    ],
                ]
            }
        }
    }

    static func run(work: TemporaryDirectory) async throws -> (fromScratch: Figures, oneChange: Figures, kubectl: Figures?) {
        // Over TLS, as a real API server is (and kubectl sends bearer tokens only over TLS).
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try await KubernetesTestServer.start(pki: pki)
        defer { Task { try? await server.stop() } }
        var first = try (0..<components).map { try ResolvedComponent(name: "component-\($0)", manifests: manifests(component: $0, version: 1)) }
        let changed = try ResolvedComponent(name: "component-7", manifests: manifests(component: 7, version: 2))
        let source = Source(first + [changed])
        let ca = Array(FileManager.default.contents(atPath: pki.caBundle) ?? Data())
        let client = try KubernetesClient(
            connection: KubernetesConnection(
                server: server.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"),
                namespace: "qbeast", credential: .token("test-token"), certificateAuthorityPEM: ca))
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let installer = try ComponentInstaller(
            client: client, source: source, stateDirectory: URL(fileURLWithPath: work.path("install")),
            clock: SystemTimeSource(), logger: logger)

        func measure(_ workspace: DesiredWorkspace) async -> Figures {
            server.resetRequestLog()
            let started = ContinuousClock.now
            await installer.reconcile([workspace])
            let elapsed = ContinuousClock.now - started
            let requests = server.requests
            return Figures(
                seconds: elapsed.timeInterval,
                requests: requests.count, applies: requests.filter { $0.method == "PATCH" }.count)
        }
        let scratch = await measure(DesiredWorkspace(name: "bench", generation: 1, components: first.map(\.ref), ruleGroups: []))
        first[7] = changed
        let change = await measure(DesiredWorkspace(name: "bench", generation: 2, components: first.map(\.ref), ruleGroups: []))
        try await client.shutdown()

        let peer = try await KubernetesTestServer.start(pki: pki)
        defer { Task { try? await peer.stop() } }
        let kubectl = try kubectlApply(server: peer, caBundle: pki.caBundle, work: work)
        return (scratch, change, kubectl)
    }

    /// `kubectl apply --server-side` of the same 200 objects in one invocation, against a fresh test server.
    static func kubectlApply(server: KubernetesTestServer, caBundle: String, work: TemporaryDirectory) throws -> Figures? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl") else { return nil }
        let objects = (0..<components).flatMap { manifests(component: $0, version: 1) }
        let encoder = JSONEncoder()
        // One `List` document: kubectl reads a file that starts with `{` as JSON, not as a YAML stream.
        let list: JSONValue = ["apiVersion": "v1", "kind": "List", "items": .array(objects)]
        try encoder.encode(list).write(to: URL(fileURLWithPath: work.path("bench-objects.json")))
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "\(server.url)", certificate-authority: "\(caBundle)", tls-server-name: localhost}}]
        users: [{name: test, user: {token: test-token}}]
        contexts: [{name: test, context: {cluster: test, user: test, namespace: qbeast}}]
        current-context: test
        """.write(toFile: work.path("bench-kubeconfig"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        process.arguments = [
            "--kubeconfig", work.path("bench-kubeconfig"), "--cache-dir", work.path("bench-kube-cache"),
            "apply", "--server-side", "--validate=false", "--field-manager", "bench", "-f", work.path("bench-objects.json"),
        ]
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: work.path("bench-kubectl.err"), contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: work.path("bench-kubectl.err")))
        server.resetRequestLog()
        let started = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        guard process.terminationStatus == 0 else {
            let error = (try? String(contentsOfFile: work.path("bench-kubectl.err"), encoding: .utf8)) ?? ""
            print("kubectl apply failed (exit \(process.terminationStatus)): \(error.split(separator: "\n").prefix(3).joined(separator: " | "))")
            return nil
        }
        let requests = server.requests
        return Figures(
            seconds: elapsed.timeInterval,
            requests: requests.count, applies: requests.filter { $0.method == "PATCH" }.count)
    }
}
