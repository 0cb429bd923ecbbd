import Foundation
import Hummingbird
import SplitPlaneProtocol
import SplitPlaneTLS
import Synchronization
import TestSupport

/// A test server standing in for the Kubernetes API server; not a Kubernetes implementation.
///
/// It speaks the real wire format (JSON objects, `Status` errors, discovery, server-side apply with
/// `managedFields`) for the built-in kinds it knows, stores objects in memory, and runs no
/// controllers: tests play the cluster with `setStatus`, `mutate`, `remove` and `inject(failure:)`.
public final class KubernetesTestServer: Sendable {
    private let server: LoopbackServer
    let cluster: SharedCluster

    private let scheme: String

    /// `http://127.0.0.1:<port>` (`https://` when started with a `TestPKI`).
    public var url: String { "\(scheme)://127.0.0.1:\(server.port)" }

    /// Starts on 127.0.0.1 (HTTP). `token`: when non-nil, requests must carry `Authorization: Bearer <token>`
    /// else 401 Status.
    public static func start(token: String? = "test-token") async -> KubernetesTestServer {
        let cluster = SharedCluster(ClusterStore(token: token))
        let router = Router()
        router.middlewares.add(KubernetesAPIHandler(cluster: cluster))
        return KubernetesTestServer(
            server: await LoopbackServer.start(router, label: "kubernetes-test-server"), cluster: cluster,
            scheme: "http")
    }

    /// The same over HTTPS with `pki`'s server certificate (issued for DNS name "localhost"; clients
    /// trust `pki.caBundle` and verify the name "localhost", e.g. kubeconfig `tls-server-name`).
    /// kubectl sends bearer tokens only over TLS, so tests that run kubectl need this one.
    public static func start(token: String? = "test-token", pki: TestPKI) async throws -> KubernetesTestServer {
        let cluster = SharedCluster(ClusterStore(token: token))
        let router = Router()
        router.middlewares.add(KubernetesAPIHandler(cluster: cluster))
        let tls = try TLSConfigurations.server(certificate: pki.serverTLS.certificate, privateKey: pki.serverTLS.privateKey)
        return KubernetesTestServer(
            server: try await LoopbackServer.startTLS(router, label: "kubernetes-test-server", tls: tls),
            cluster: cluster, scheme: "https")
    }

    private init(server: LoopbackServer, cluster: SharedCluster, scheme: String) {
        self.server = server
        self.cluster = cluster
        self.scheme = scheme
    }

    public func stop() async throws {
        let watchers = cluster.withLock { state in
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish() }
        try await server.stop()
    }

    /// Simulates token rotation: from now on only `token` is accepted (nil: no authentication).
    public func setToken(_ token: String?) { cluster.withLock { $0.token = token } }

    // MARK: Inspection

    /// The object as a GET answers it, or nil.
    public func object(apiVersion: String, kind: String, namespace: String?, name: String) -> JSONValue? {
        guard let resource = KubeResources.find(apiVersion: apiVersion, kind: kind) else { return nil }
        return cluster.withLock { $0.objects[ObjectKey(resource, namespace: namespace, name: name)]?.rendered }
    }

    /// Objects of a kind in a namespace (nil: all namespaces), ordered by namespace and name.
    public func objects(apiVersion: String, kind: String, namespace: String?) -> [JSONValue] {
        guard let resource = KubeResources.find(apiVersion: apiVersion, kind: kind) else { return [] }
        let request = ObjectRequest(resource: resource, namespace: namespace, name: nil, subresource: nil, query: [:], userAgent: nil)
        return cluster.withLock { (try? $0.matching(request)) ?? [] }
    }

    /// Every request since start or the last `resetRequestLog()`.
    public var requests: [RecordedRequest] { cluster.withLock { $0.requests } }

    /// Watches open right now (so a test can wait for one to be registered before changing objects).
    public var watchCount: Int { cluster.withLock { $0.watchers.count } }

    public func resetRequestLog() { cluster.withLock { $0.requests = [] } }

    // MARK: Simulating the cluster

    private func objectRequest(
        _ apiVersion: String, _ kind: String, _ namespace: String?, _ name: String,
        subresource: String? = nil
    ) -> ObjectRequest {
        guard let resource = KubeResources.find(apiVersion: apiVersion, kind: kind) else {
            preconditionFailure("KubernetesTestServer does not serve \(kind) in \(apiVersion)")
        }
        return ObjectRequest(resource: resource, namespace: namespace, name: name, subresource: subresource, query: [:], userAgent: nil)
    }

    /// Sets `.status` (what a controller would do, recorded as an Update by "kube-controller-manager"
    /// on the status subresource), bumps resourceVersion; the object's own fields are untouched.
    public func setStatus(apiVersion: String, kind: String, namespace: String?, name: String, status: JSONValue) {
        let main = objectRequest(apiVersion, kind, namespace, name)
        let request = objectRequest(apiVersion, kind, namespace, name, subresource: main.resource.hasStatus ? "status" : nil)
        cluster.withLock { state in
            guard var object = state.objects[request.key]?.rendered else { return }
            object[path: ["status"]] = status
            _ = try? state.replace(request, body: object, manager: "kube-controller-manager")
        }
    }

    /// An out-of-band change by another client (like `kubectl edit`): `manager` becomes owner (operation
    /// Update) of the changed fields; bumps resourceVersion/generation as the real server would. Like a
    /// write to the main resource, it leaves `.status` of kinds with a status subresource alone (use `setStatus`).
    public func mutate(
        apiVersion: String, kind: String, namespace: String?, name: String, manager: String = "kubectl-edit",
        _ change: @Sendable (inout JSONValue) -> Void
    ) {
        let request = objectRequest(apiVersion, kind, namespace, name)
        cluster.withLock { state in
            guard var object = state.objects[request.key]?.rendered else { return }
            change(&object)
            _ = try? state.replace(request, body: object, manager: manager)
        }
    }

    /// Out-of-band deletion.
    public func remove(apiVersion: String, kind: String, namespace: String?, name: String) {
        let request = objectRequest(apiVersion, kind, namespace, name)
        cluster.withLock { _ = try? $0.delete(request, options: nil) }
    }

    /// Makes matching requests fail with the given Status. Returns an id to lift it.
    @discardableResult
    public func inject(failure: InjectedFailure) -> Int {
        cluster.withLock { state in
            defer { state.nextFailureID += 1 }
            state.failures[state.nextFailureID] = failure
            return state.nextFailureID
        }
    }

    public func lift(_ id: Int) { _ = cluster.withLock { $0.failures.removeValue(forKey: id) } }

    /// Rules the caller holds, answered on POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews for
    /// any namespace (default: everything in namespace "qbeast"). Each a ResourceRule object
    /// `{verbs, apiGroups, resources, resourceNames?}`. Rules are reported, not enforced.
    public func setRules(_ rules: [JSONValue]) { cluster.withLock { $0.rules = rules } }
}

/// The cluster state shared by the server object and its request handler.
final class SharedCluster: Sendable {
    private let state: Mutex<ClusterStore>

    init(_ store: ClusterStore) { state = Mutex(store) }

    func withLock<Result: Sendable, Failure: Error>(_ body: (inout ClusterStore) throws(Failure) -> Result) throws(Failure) -> Result {
        try state.withLock { (store: inout sending ClusterStore) throws(Failure) -> Result in try body(&store) }
    }
}
