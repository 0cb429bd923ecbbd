import Foundation
import KubernetesAPI
import SplitPlaneProtocol

/// A resolved component made ready to apply: each manifest with the resource that serves it, in
/// install order, or the reasons the component is refused as a whole.
struct InstallPlan: Sendable {
    struct Item: Sendable {
        var key: ObjectKey
        var object: JSONValue
        var resource: APIResource
    }

    var hash: String
    var workspace: String
    var items: [Item] = []
    /// Per-object reasons the component may not be applied at all (confinement, unknown kinds).
    var refusals: [ObjectKey: String] = [:]
    /// Objects whose kind the API server does not serve (yet: a CRD may come later); retried.
    var unserved: [ObjectKey: String] = [:]
    /// Whether the customer's support-access grant was in force when the plan was made.
    var supportAccessOpen = false
    /// Support-access objects held back because access is not granted (absent from `items`, so pruned).
    var withheld: Set<ObjectKey> = []
    /// Qbeast's request for support access, when this component carries one.
    var supportAccessRequest: SupportAccessRequest?

    var keys: Set<ObjectKey> { Set(items.map(\.key)) }
    var isApplicable: Bool { refusals.isEmpty && unserved.isEmpty }

    /// Kinds applied first (Helm's install order): what others reference comes before them.
    static let kindOrder = [
        "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount", "Secret",
        "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
        "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    ]

    static func rank(_ kind: String) -> Int { kindOrder.firstIndex(of: kind) ?? kindOrder.count }

    /// Fields a copied live object carries that an apply must not send.
    static func applicable(_ manifest: JSONValue) -> JSONValue {
        guard var object = manifest.objectValue else { return manifest }
        object["status"] = nil
        if var metadata = object["metadata"]?.objectValue {
            for field in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] { metadata[field] = nil }
            object["metadata"] = .object(metadata)
        }
        return .object(object)
    }

    static func make(
        _ component: ResolvedComponent, discovery: APIDiscovery, confinement: NamespaceConfinement,
        workspace: String, supportAccessOpen: Bool = false
    ) async throws -> InstallPlan {
        var plan = InstallPlan(hash: component.hash, workspace: workspace)
        plan.supportAccessOpen = supportAccessOpen
        var seen = Set<ObjectKey>()
        for (index, manifest) in component.manifests.enumerated() {
            guard let key = ObjectKey(manifest) else {
                plan.refusals[ObjectKey(apiVersion: "?", kind: "?", name: "manifests[\(index)]")] =
                    "manifests[\(index)] lacks apiVersion, kind or metadata.name"
                continue
            }
            guard seen.insert(key).inserted else {
                plan.refusals[key] = "\(key) appears twice in component \"\(component.name)\""
                continue
            }
            guard let resource = try await discovery.resource(apiVersion: key.apiVersion, kind: key.kind) else {
                plan.unserved[key] = "the API server serves no kind \(key.kind) in \(key.apiVersion)"
                continue
            }
            if let refusal = confinement.refusal(of: manifest, resource: resource) {
                plan.refusals[key] = refusal
                continue
            }
            switch SupportAccessGate.classify(manifest, key: key, workspace: workspace) {
            case .ordinary: break
            case .refused(let reason):
                plan.refusals[key] = reason
                continue
            case .request(let request):
                plan.supportAccessRequest = request
            case .gated:
                if !supportAccessOpen {
                    plan.withheld.insert(key)
                    continue
                }
            }
            let object = OwnershipLabels.stamp(
                applicable(manifest), workspace: workspace, component: component.name,
                namespace: confinement.namespace)
            plan.items.append(Item(key: key, object: object, resource: resource))
        }
        plan.items = plan.items.enumerated().sorted { lhs, rhs in
            let (left, right) = (rank(lhs.element.key.kind), rank(rhs.element.key.kind))
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        return plan
    }
}
