import SplitPlaneProtocol

extension ClusterStore {
    func get(_ request: ObjectRequest) throws(KubeStatusError) -> JSONValue {
        guard let stored = objects[request.key] else { throw .notFound(request.resource, request.name ?? "") }
        if request.subresource == "status" && !request.resource.hasStatus { throw .pathNotFound }
        return stored.rendered
    }

    func selectors(_ query: [String: String]) throws(KubeStatusError) -> (labels: LabelSelector, fields: LabelSelector) {
        let fields = try LabelSelector(parsing: query["fieldSelector"] ?? "")
        for requirement in fields.requirements {
            let key: String
            switch requirement {
            case .equals(let name, _), .notEquals(let name, _): key = name
            default: throw .badRequest("invalid selector: '\(query["fieldSelector"] ?? "")'; can't understand '\(requirement)'")
            }
            guard key == "metadata.name" || key == "metadata.namespace" else {
                throw .badRequest("\"\(key)\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
            }
        }
        return (try LabelSelector(parsing: query["labelSelector"] ?? ""), fields)
    }

    func matching(_ request: ObjectRequest) throws(KubeStatusError) -> [JSONValue] {
        let (labels, fields) = try selectors(request.query)
        return
            objects
            .filter { key, _ in
                key.group == request.resource.group && key.resource == request.resource.name
                    && (request.namespace == nil || key.namespace == request.namespace)
            }
            .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
            .map(\.value.rendered)
            .filter { labels.matches(LabelSelector.labels(of: $0)) && fields.matches(LabelSelector.fields(of: $0)) }
    }

    /// A `<Kind>List` whose items carry apiVersion and kind.
    func list(_ request: ObjectRequest) throws(KubeStatusError) -> JSONValue {
        let items = try matching(request)
        return [
            "kind": .string(request.resource.kind + "List"), "apiVersion": .string(request.resource.apiVersion),
            "metadata": ["resourceVersion": .string(String(lastResourceVersion))],
            "items": .array(items),
        ]
    }

    /// SelfSubjectRulesReview: the rules tests set, by default everything in namespace "qbeast".
    func rulesReview(_ body: JSONValue) throws(KubeStatusError) -> JSONValue {
        guard let namespace = body["spec"]?["namespace"]?.stringValue, !namespace.isEmpty else {
            throw .invalid(
                qualifiedKind: "SelfSubjectRulesReview.authorization.k8s.io", kind: "SelfSubjectRulesReview",
                group: "authorization.k8s.io", name: "", field: "spec.namespace", causeReason: "FieldValueRequired",
                detail: "Required value")
        }
        let reviews: JSONValue = [
            "verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        ]
        let everything: JSONValue = ["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]]
        let resourceRules = rules ?? (namespace == "qbeast" ? [everything, reviews] : [reviews])
        return [
            "kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": ["creationTimestamp": .null], "spec": ["namespace": .string(namespace)],
            "status": ["resourceRules": .array(resourceRules), "nonResourceRules": [], "incomplete": false],
        ]
    }
}
