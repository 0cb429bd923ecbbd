import Foundation
import KubernetesAPI
import KubernetesTestServer
import SplitPlaneProtocol

/// A scripted stand-in for Crossplane on a `KubernetesTestServer`; NOT Crossplane. No Crossplane (or
/// cloud) runs on the test machines, so tests play its part step by step, over the same wire format:
/// for an applied `QbeastEnvironment` it creates a few composed managed resources (a subset of the AWS
/// Composition, with Crossplane's `composition-resource-name` annotation and finalizers) and lists them
/// in `spec.crossplane.resourceRefs`; it walks their `Synced`/`Ready` conditions (blocked with a provider
/// error, unblocked, ready); on hand-over it writes the kubeconfig connection Secret and the agent's helm
/// `Release`; on delete it removes the composed resources' finalizers one at a time, then the XR's.
public struct CrossplaneStandIn: Sendable {
    public let server: KubernetesTestServer
    let client: KubernetesClient

    /// The composed resources, by their Composition names, as the AWS Composition names them.
    public static let composed: [(resource: String, apiVersion: String, kind: String, path: String)] = [
        ("provider-config", "aws.m.upbound.io/v1beta1", "ProviderConfig", "/apis/aws.m.upbound.io/v1beta1"),
        ("vpc", "ec2.aws.m.upbound.io/v1beta1", "VPC", "/apis/ec2.aws.m.upbound.io/v1beta1"),
        ("cluster", "eks.aws.m.upbound.io/v1beta1", "Cluster", "/apis/eks.aws.m.upbound.io/v1beta1"),
        ("node-group", "eks.aws.m.upbound.io/v1beta1", "NodeGroup", "/apis/eks.aws.m.upbound.io/v1beta1"),
        ("bucket", "s3.aws.m.upbound.io/v1beta1", "Bucket", "/apis/s3.aws.m.upbound.io/v1beta1"),
    ]
    static let xrAPIVersion = "platform.qbeast.io/v1alpha1"
    static let finalizer = "finalizer.managedresource.crossplane.io"

    public init(server: KubernetesTestServer, token: String? = "test-token") throws {
        self.server = server
        client = try KubernetesClient(
            connection: KubernetesConnection(server: server.url, namespace: "default", credential: token.map { .token($0) } ?? .none))
    }

    public func shutdown() async throws { try await client.shutdown() }

    public func xr(namespace: String, name: String) -> JSONValue? {
        server.object(apiVersion: Self.xrAPIVersion, kind: "QbeastEnvironment", namespace: namespace, name: name)
    }

    /// What the Composition would compose, not yet ready (Synced=True, Ready=False "Creating").
    public func compose(namespace: String, name: String) async throws {
        var refs: [JSONValue] = []
        for entry in Self.composed {
            let objectName = "\(name)-\(entry.resource)"
            let object: JSONValue = [
                "apiVersion": .string(entry.apiVersion), "kind": .string(entry.kind),
                "metadata": [
                    "name": .string(objectName), "namespace": .string(namespace),
                    "annotations": ["crossplane.io/composition-resource-name": .string(entry.resource)],
                    "finalizers": [.string(Self.finalizer)],
                ],
                "spec": ["forProvider": [:]],
            ]
            let plural = KubeKinds.plural(entry.kind)
            _ = try await client.apply(
                object, at: "\(entry.path)/namespaces/\(namespace)/\(plural)/\(objectName)", fieldManager: "crossplane", force: true)
            refs.append(["apiVersion": .string(entry.apiVersion), "kind": .string(entry.kind), "name": .string(objectName)])
            set(entry.resource, namespace: namespace, name: name, synced: ("True", "ReconcileSuccess", ""), ready: ("False", "Creating", ""))
        }
        let references = refs
        server.mutate(apiVersion: Self.xrAPIVersion, kind: "QbeastEnvironment", namespace: namespace, name: name, manager: "crossplane") { xr in
            xr.set(["spec", "crossplane", "resourceRefs"], to: .array(references))
            xr.set(["metadata", "finalizers"], to: ["composite.apiextensions.crossplane.io"])
        }
        setXR(namespace: namespace, name: name, ready: "False", reason: "Creating")
    }

    /// The provider failing to create `resource`, with the cloud's own error (Synced=False, ReconcileError).
    public func block(_ resource: String, namespace: String, name: String, message: String) {
        set(resource, namespace: namespace, name: name, synced: ("False", "ReconcileError", message), ready: ("False", "Creating", ""))
    }

    /// Every composed resource synced and ready.
    public func makeAllReady(namespace: String, name: String) {
        for entry in Self.composed {
            set(entry.resource, namespace: namespace, name: name, synced: ("True", "ReconcileSuccess", ""), ready: ("True", "Available", ""))
        }
    }

    /// The hand-over as the Composition does it once `spec.agent.enabled` and the token Secret name are
    /// set: the kubeconfig connection Secret, the helm Release (values without the token), XR Ready.
    /// Returns false while the XR's hand-over is still off.
    @discardableResult
    public func installAgent(namespace: String, name: String) async throws -> Bool {
        guard let xr = xr(namespace: namespace, name: name), xr["spec"]?["agent"]?["enabled"] == .bool(true),
            xr["spec"]?["agent"]?["enrollmentTokenSecretName"]?.stringValue != nil
        else { return false }
        let secret: JSONValue = [
            "apiVersion": "v1", "kind": "Secret",
            "metadata": ["name": .string("\(name)-kubeconfig"), "namespace": .string(namespace)],
            "data": ["kubeconfig": .string(Data("apiVersion: v1\nkind: Config\n".utf8).base64EncodedString())],
        ]
        _ = try await client.apply(secret, at: "/api/v1/namespaces/\(namespace)/secrets/\(name)-kubeconfig", fieldManager: "crossplane", force: true)
        let release: JSONValue = [
            "apiVersion": "helm.m.crossplane.io/v1beta1", "kind": "Release",
            "metadata": ["name": .string("\(name)-agent"), "namespace": .string(namespace)],
            "spec": [
                "forProvider": [
                    "chart": xr["spec"]?["agent"]?["chart"] ?? [:], "namespace": xr["spec"]?["agent"]?["namespace"] ?? "qbeast-agent",
                    "values": [
                        "controller": ["url": xr["spec"]?["agent"]?["controllerUrl"] ?? "", "enrollUrl": xr["spec"]?["agent"]?["enrollUrl"] ?? ""],
                        "enrollment": ["method": "token", "existingSecret": "qbeast-agent-enrollment"],
                    ],
                ]
            ],
        ]
        _ = try await client.apply(
            release, at: "/apis/helm.m.crossplane.io/v1beta1/namespaces/\(namespace)/releases/\(name)-agent", fieldManager: "crossplane", force: true)
        setXR(namespace: namespace, name: name, ready: "True", reason: "Available", releaseState: "deployed")
        return true
    }

    /// The enrollment token the hand-over Secret holds (what provider-kubernetes copies into the new cluster).
    public func handOverToken(namespace: String, secretName: String) -> String? {
        guard let secret = server.object(apiVersion: "v1", kind: "Secret", namespace: namespace, name: secretName),
            let encoded = secret["data"]?["token"]?.stringValue, let data = Data(base64Encoded: encoded)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// One step of a foreground teardown: deletes the composed resources (they stay, marked, while their
    /// finalizers are there) and removes the finalizer of the first one still present; with none left,
    /// the XR's own. Returns false once the XR is gone (or was never marked for deletion).
    @discardableResult
    public func teardownStep(namespace: String, name: String) async throws -> Bool {
        guard let xr = xr(namespace: namespace, name: name), xr["metadata"]?["deletionTimestamp"] != nil else { return false }
        var remaining: [(String, String, String)] = []
        for entry in Self.composed {
            let objectName = "\(name)-\(entry.resource)"
            guard server.object(apiVersion: entry.apiVersion, kind: entry.kind, namespace: namespace, name: objectName) != nil else { continue }
            try await client.delete("\(entry.path)/namespaces/\(namespace)/\(KubeKinds.plural(entry.kind))/\(objectName)", uid: nil)
            remaining.append((entry.apiVersion, entry.kind, objectName))
        }
        if let (apiVersion, kind, objectName) = remaining.first {
            server.mutate(apiVersion: apiVersion, kind: kind, namespace: namespace, name: objectName, manager: "crossplane") {
                $0.set(["metadata", "finalizers"], to: [])
            }
        } else {
            server.mutate(apiVersion: Self.xrAPIVersion, kind: "QbeastEnvironment", namespace: namespace, name: name, manager: "crossplane") {
                $0.set(["metadata", "finalizers"], to: [])
            }
        }
        return true
    }

    private func set(
        _ resource: String, namespace: String, name: String, synced: (String, String, String), ready: (String, String, String)
    ) {
        guard let entry = Self.composed.first(where: { $0.resource == resource }) else { preconditionFailure("no composed resource \(resource)") }
        let status: JSONValue = [
            "conditions": [
                Self.condition("Synced", synced), Self.condition("Ready", ready),
            ]
        ]
        server.setStatus(apiVersion: entry.apiVersion, kind: entry.kind, namespace: namespace, name: "\(name)-\(resource)", status: status)
    }

    private func setXR(namespace: String, name: String, ready: String, reason: String, releaseState: String? = nil) {
        var status: JSONValue = ["conditions": [Self.condition("Synced", ("True", "ReconcileSuccess", "")), Self.condition("Ready", (ready, reason, ""))]]
        if let releaseState { status.set(["agent", "releaseState"], to: .string(releaseState)) }
        server.setStatus(apiVersion: Self.xrAPIVersion, kind: "QbeastEnvironment", namespace: namespace, name: name, status: status)
    }

    private static func condition(_ type: String, _ value: (status: String, reason: String, message: String)) -> JSONValue {
        var condition: JSONValue = [
            "type": .string(type), "status": .string(value.status), "reason": .string(value.reason),
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        ]
        if !value.message.isEmpty { condition.set(["message"], to: .string(value.message)) }
        return condition
    }
}

/// Plural resource names of the kinds the stand-in writes.
enum KubeKinds {
    static func plural(_ kind: String) -> String {
        switch kind {
        case "VPC": return "vpcs"
        case "Cluster": return "clusters"
        case "NodeGroup": return "nodegroups"
        case "Bucket": return "buckets"
        case "ProviderConfig": return "providerconfigs"
        default: return kind.lowercased() + "s"
        }
    }
}
