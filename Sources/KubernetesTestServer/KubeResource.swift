/// One resource type the Kubernetes test server serves, as API discovery describes it.
struct KubeResource: Sendable, Hashable {
    let group: String
    let version: String
    /// Plural, lower case: the path segment (`deployments`).
    let name: String
    let singular: String
    let kind: String
    let namespaced: Bool
    let shortNames: [String]
    let categories: [String]
    /// Has a `/status` subresource: main writes keep `.status`, status writes keep everything else.
    let hasStatus: Bool
    /// Create-only review resources (SelfSubjectRulesReview) are answered, not stored.
    let createOnly: Bool

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// Whether the real server keeps `metadata.generation` for the kind: workloads and other spec-bearing
    /// API-group kinds do; core kinds (ConfigMap, Secret, Service, …) and RBAC objects carry none.
    var tracksGeneration: Bool {
        ["apps", "batch", "networking.k8s.io", "policy", "autoscaling", "apiextensions.k8s.io"].contains(group)
    }
    /// `deployments.apps`, or `configmaps` in the core group: how Status messages name the resource.
    var qualifiedResource: String { group.isEmpty ? name : "\(name).\(group)" }
    /// `Deployment.apps`: how Invalid messages name the kind.
    var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    var verbs: [String] {
        createOnly ? ["create"] : ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }
}

/// The resource types the Kubernetes test server knows; anything else answers 404.
enum KubeResources {
    private static func r(
        _ group: String, _ name: String, _ kind: String, version: String = "v1", namespaced: Bool = true, short: [String] = [],
        all: Bool = false, status: Bool = false, createOnly: Bool = false
    ) -> KubeResource {
        KubeResource(
            group: group, version: version, name: name, singular: kind.lowercased(), kind: kind, namespaced: namespaced,
            shortNames: short, categories: all ? ["all"] : [], hasStatus: status, createOnly: createOnly)
    }

    static let all: [KubeResource] =
        [
            r("", "pods", "Pod", short: ["po"], all: true, status: true),
            r("", "services", "Service", short: ["svc"], all: true, status: true),
            r("", "endpoints", "Endpoints", short: ["ep"]),
            r("", "configmaps", "ConfigMap", short: ["cm"]),
            r("", "secrets", "Secret"),
            r("", "serviceaccounts", "ServiceAccount", short: ["sa"]),
            r("", "persistentvolumeclaims", "PersistentVolumeClaim", short: ["pvc"], status: true),
            r("", "resourcequotas", "ResourceQuota", short: ["quota"], status: true),
            r("", "namespaces", "Namespace", namespaced: false, short: ["ns"], status: true),
            r("", "nodes", "Node", namespaced: false, short: ["no"], status: true),
            r("apps", "deployments", "Deployment", short: ["deploy"], all: true, status: true),
            r("apps", "statefulsets", "StatefulSet", short: ["sts"], all: true, status: true),
            r("apps", "daemonsets", "DaemonSet", short: ["ds"], all: true, status: true),
            r("apps", "replicasets", "ReplicaSet", short: ["rs"], all: true, status: true),
            r("batch", "jobs", "Job", all: true, status: true),
            r("batch", "cronjobs", "CronJob", short: ["cj"], all: true, status: true),
            r("rbac.authorization.k8s.io", "roles", "Role"),
            r("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
            r("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced: false),
            r("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced: false),
            r("networking.k8s.io", "networkpolicies", "NetworkPolicy", short: ["netpol"]),
            r("networking.k8s.io", "ingresses", "Ingress", short: ["ing"], status: true),
            r("policy", "poddisruptionbudgets", "PodDisruptionBudget", short: ["pdb"], status: true),
            r("events.k8s.io", "events", "Event", short: ["ev"]),
            r("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview", namespaced: false, createOnly: true),
            r(
                "apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false,
                short: ["crd", "crds"], status: true),
            // A cluster-scoped custom resource, as if cert-manager's CRDs were installed: the controller cannot
            // know it is cluster-scoped, only the agent (asking discovery) can.
            r("cert-manager.io", "clusterissuers", "ClusterIssuer", namespaced: false),
        ] + crossplane

    /// As if Crossplane v2, the Qbeast Configuration and the upjet AWS providers were installed: the
    /// namespaced XR and the composed kinds `CrossplaneStandIn` plays (a subset of the AWS Composition).
    static let crossplane: [KubeResource] = [
        r("platform.qbeast.io", "qbeastenvironments", "QbeastEnvironment", version: "v1alpha1", status: true),
        r("aws.m.upbound.io", "providerconfigs", "ProviderConfig", version: "v1beta1"),
        r("ec2.aws.m.upbound.io", "vpcs", "VPC", version: "v1beta1", status: true),
        r("ec2.aws.m.upbound.io", "subnets", "Subnet", version: "v1beta1", status: true),
        r("eks.aws.m.upbound.io", "clusters", "Cluster", version: "v1beta1", status: true),
        r("eks.aws.m.upbound.io", "nodegroups", "NodeGroup", version: "v1beta1", status: true),
        r("s3.aws.m.upbound.io", "buckets", "Bucket", version: "v1beta1", status: true),
        r("helm.m.crossplane.io", "releases", "Release", version: "v1beta1", status: true),
    ]

    /// Groups in discovery order, core ("") first.
    static var groups: [String] {
        var seen: [String] = []
        for resource in all where !seen.contains(resource.group) { seen.append(resource.group) }
        return seen
    }

    static func find(group: String, version: String, name: String) -> KubeResource? {
        all.first { $0.group == group && $0.version == version && $0.name == name }
    }

    static func find(apiVersion: String, kind: String) -> KubeResource? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// `deployments` or `deployments.apps`.
    static func find(resource: String) -> KubeResource? {
        all.first { $0.name == resource || $0.qualifiedResource == resource }
    }
}
