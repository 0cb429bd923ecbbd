import Foundation
import KubernetesAPI
import SplitPlaneProtocol

/// What the agent refuses to apply, checked for a whole component before any of it is applied: the
/// agent's RBAC is a namespaced Role, and a spec must not be able to reach beyond it — not by a
/// cluster-scoped kind, not by another namespace, not by an RBAC object granting more than the agent
/// itself holds (Kubernetes' own escalation check, done up front with a readable reason).
public struct NamespaceConfinement: Sendable {
    public let namespace: String
    /// The agent's own rules in its namespace (`SelfSubjectRulesReview`); nil when they could not be read.
    public let agentRules: [PolicyRule]?

    public init(namespace: String, agentRules: [PolicyRule]?) {
        self.namespace = namespace
        self.agentRules = agentRules
    }

    /// Why `object` (served by `resource`) may not be applied, or nil when it may.
    public func refusal(of object: JSONValue, resource: APIResource) -> String? {
        let key = ObjectKey(object).map(\.description) ?? "object"
        guard resource.namespaced else {
            return "\(key) is cluster-scoped; the agent installs only namespaced objects in namespace \"\(namespace)\""
        }
        if let other = object["metadata"]?["namespace"]?.stringValue, other != namespace {
            return "\(key) names namespace \"\(other)\"; the agent installs only into its own namespace \"\(namespace)\""
        }
        guard resource.group == "rbac.authorization.k8s.io" else { return nil }
        switch resource.kind {
        case "Role": return roleRefusal(object, key: key)
        case "RoleBinding": return bindingRefusal(object, key: key)
        default: return nil
        }
    }

    private func roleRefusal(_ role: JSONValue, key: String) -> String? {
        guard let agentRules else {
            return "\(key) grants permissions, and the agent could not read its own (SelfSubjectRulesReview) to check they are no more than it holds"
        }
        for (index, rule) in (role["rules"]?.arrayValue ?? []).enumerated() {
            let requested = PolicyRule(rule)
            if !requested.nonResourceURLs.isEmpty {
                return "\(key) rules[\(index)] names nonResourceURLs, which a namespaced Role cannot grant"
            }
            if let missing = requested.firstUncovered(by: agentRules) {
                return "\(key) rules[\(index)] grants \(missing), more than the agent holds in namespace \"\(namespace)\""
            }
        }
        return nil
    }

    private func bindingRefusal(_ binding: JSONValue, key: String) -> String? {
        let roleKind = binding["roleRef"]?["kind"]?.stringValue ?? ""
        if roleKind != "Role" {
            let roleName = binding["roleRef"]?["name"]?.stringValue ?? "?"
            return "\(key) binds \(roleKind)/\(roleName); the agent binds only Roles of its own namespace, whose rules it can check"
        }
        for subject in binding["subjects"]?.arrayValue ?? [] {
            let kind = subject["kind"]?.stringValue ?? ""
            let name = subject["name"]?.stringValue ?? "?"
            guard kind == "ServiceAccount" else {
                return "\(key) binds \(kind) \"\(name)\"; the agent grants access only to service accounts of namespace \"\(namespace)\""
            }
            if let other = subject["namespace"]?.stringValue, other != namespace {
                return "\(key) binds service account \(other)/\(name) of another namespace"
            }
        }
        return nil
    }
}

/// One RBAC rule, as Roles state it and `SelfSubjectRulesReview` reports it.
public struct PolicyRule: Equatable, Sendable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    public init(verbs: [String], apiGroups: [String], resources: [String], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(_ json: JSONValue) {
        func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
            resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    /// The first (verb, group, resource) this rule grants that none of `held` covers, described for a
    /// person; nil when everything is covered. A `*` here is only covered by a `*` held.
    func firstUncovered(by held: [PolicyRule]) -> String? {
        for verb in verbs {
            for group in apiGroups {
                for resource in resources {
                    let covered = held.contains { rule in
                        Self.matches(rule.verbs, verb) && Self.matches(rule.apiGroups, group) && Self.covers(rule.resources, resource)
                            && (rule.resourceNames.isEmpty || (!resourceNames.isEmpty && Set(resourceNames).isSubset(of: rule.resourceNames)))
                    }
                    if !covered { return "\"\(verb)\" on \(resource.isEmpty ? "?" : resource)\(group.isEmpty ? "" : ".\(group)")" }
                }
            }
        }
        return nil
    }

    private static func matches(_ held: [String], _ wanted: String) -> Bool { held.contains("*") || held.contains(wanted) }

    /// Resources may name subresources: `pods/*` held covers `pods/log` wanted, as in Kubernetes.
    private static func covers(_ held: [String], _ wanted: String) -> Bool {
        if matches(held, wanted) { return true }
        guard let slash = wanted.firstIndex(of: "/") else { return false }
        return held.contains(wanted[..<slash] + "/*")
    }
}
