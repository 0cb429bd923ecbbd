/// What the controller checks of every manifest object before a workspace is accepted, so a spec the
/// agent would refuse (or that names paths instead of objects) fails at apply time with a reason. The
/// agent still confines for itself (its Role is namespaced; it asks the API server what is cluster-scoped).
public enum KubernetesObjectRules {
    /// Built-in kinds that are cluster-scoped, by API group ("" is the core group). Custom resources
    /// are judged by the agent, which asks the API server's discovery.
    public static let clusterScopedKinds: [String: Set<String>] = [
        "": ["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
        "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding"],
        "storage.k8s.io": ["StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass"],
        "apiextensions.k8s.io": ["CustomResourceDefinition"],
        "admissionregistration.k8s.io": [
            "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
            "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
        ],
        "apiregistration.k8s.io": ["APIService"],
        "scheduling.k8s.io": ["PriorityClass"],
        "node.k8s.io": ["RuntimeClass"],
        "certificates.k8s.io": ["CertificateSigningRequest", "ClusterTrustBundle"],
        "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
        "networking.k8s.io": ["IngressClass", "IPAddress", "ServiceCIDR"],
        "policy": ["PodSecurityPolicy"],
        "authentication.k8s.io": ["TokenReview", "SelfSubjectReview"],
        "authorization.k8s.io": ["SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview"],
        "resource.k8s.io": ["DeviceClass"],
    ]

    public static func group(ofAPIVersion apiVersion: String) -> String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    public static func isClusterScoped(apiVersion: String, kind: String) -> Bool {
        clusterScopedKinds[group(ofAPIVersion: apiVersion)]?.contains(kind) == true
    }

    /// Checks one manifest object: `apiVersion` and `kind`, a namespaced built-in kind, a valid
    /// `metadata.name` and, when given, a valid `metadata.namespace` equal to `namespace` (if known).
    /// `field` is where the object sits (`spec.components[0].manifests[2]`).
    public static func validate(_ object: JSONValue, namespace: String? = nil, field: String) throws(ValidationError) {
        if let refusal = refusal(of: object, namespace: namespace) {
            throw ValidationError(field: field, reason: refusal)
        }
    }

    /// Why `object` cannot be installed, phrased to follow the object's place ("manifests[0] (ConfigMap
    /// \"x\") is in namespace …"); nil when it can.
    public static func refusal(of object: JSONValue, namespace: String? = nil) -> String? {
        guard case .object(let fields) = object else { return "is not an object" }
        guard case .string(let apiVersion)? = fields["apiVersion"], !apiVersion.isEmpty else { return "has no `apiVersion`" }
        guard case .string(let kind)? = fields["kind"], !kind.isEmpty else { return "has no `kind`" }
        guard case .object(let metadata)? = fields["metadata"], case .string(let name)? = metadata["name"], !name.isEmpty else {
            return "(\(kind)) has no `metadata.name`"
        }
        let subject = "(\(kind) \"\(name.prefix(80))\")"
        if isClusterScoped(apiVersion: apiVersion, kind: kind) {
            return "\(subject) is cluster-scoped; the agent installs only namespaced objects into its own namespace"
        }
        if let reason = nameProblem(name, group: group(ofAPIVersion: apiVersion), kind: kind) {
            return "\(subject) has an invalid name: \(reason)"
        }
        switch metadata["namespace"] {
        case nil, .null?:
            return nil
        case .string(let other)?:
            if let reason = ResourceName.problem(with: other) { return "\(subject) has an invalid `metadata.namespace`: \(reason)" }
            if let namespace, other != namespace {
                return "\(subject) is in namespace \"\(other)\"; the agent installs only into its own namespace \"\(namespace)\""
            }
            return nil
        default:
            return "\(subject) has a `metadata.namespace` that is not a string"
        }
    }

    /// Kubernetes' own name rules: every name must be usable as a path segment; most kinds need a
    /// DNS-1123 subdomain, Services a DNS-1035 label; RBAC objects allow path-segment names
    /// (`system:foo`).
    static func nameProblem(_ name: String, group: String, kind: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name == "." || name == ".." || name.contains("/") || name.contains("%") {
            return "\"\(name.prefix(63))\" may not be '.', '..' or contain '/' or '%'"
        }
        if group == "rbac.authorization.k8s.io" {
            return name.utf8.count > 253 ? "at most 253 characters are allowed" : nil
        }
        if group.isEmpty && kind == "Service" {
            if let problem = ResourceName.problem(with: name) { return problem }
            if let first = name.utf8.first, !(0x61...0x7A).contains(first) {
                return "\"\(name)\" is not a DNS-1035 label (a Service name must start with a lowercase letter)"
            }
            return nil
        }
        return subdomainProblem(name)
    }

    /// DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters.
    static func subdomainProblem(_ name: String) -> String? {
        if name.utf8.count > 253 { return "\"\(name.prefix(20))…\" is \(name.utf8.count) characters; at most 253 are allowed" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty || ResourceName.problem(with: String(label)) != nil {
                return "\"\(name)\" is not a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
            }
        }
        return nil
    }
}
