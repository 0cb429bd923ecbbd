/// Desired state of one Qbeast software stack inside an environment: its components and alert rules.
public struct WorkspaceSpec: Codable, Equatable, Sendable {
    public var components: [ComponentSpec]
    public var ruleGroups: [RuleGroup]
    /// Which alert labels and annotations may leave the customer's environment.
    public var alertAllowlist: AlertAllowlist?

    public init(components: [ComponentSpec] = [], ruleGroups: [RuleGroup] = [], alertAllowlist: AlertAllowlist? = nil) {
        self.components = components
        self.ruleGroups = ruleGroups
        self.alertAllowlist = alertAllowlist
    }

    enum CodingKeys: String, CodingKey { case components, ruleGroups, alertAllowlist }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        components = try container.decodeIfPresent([ComponentSpec].self, forKey: .components) ?? []
        ruleGroups = try container.decodeIfPresent([RuleGroup].self, forKey: .ruleGroups) ?? []
        alertAllowlist = try container.decodeIfPresent(AlertAllowlist.self, forKey: .alertAllowlist)
    }

    /// Checks everything that can be checked without a cluster or a metrics store.
    public func validate(field: String = "spec") throws(ValidationError) {
        var seen = Set<String>()
        for (index, component) in components.enumerated() {
            let path = "\(field).components[\(index)]"
            try component.validate(field: path)
            if !seen.insert(component.name).inserted {
                throw ValidationError(field: "\(path).name", reason: "duplicate component name \"\(component.name)\"")
            }
        }
        var groupNames = Set<String>()
        for (index, group) in ruleGroups.enumerated() {
            let path = "\(field).ruleGroups[\(index)]"
            try group.validate(field: path)
            if !groupNames.insert(group.name).inserted {
                throw ValidationError(field: "\(path).name", reason: "duplicate rule group name \"\(group.name)\"")
            }
        }
    }
}

/// One installable part of a workspace: a Helm chart reference or plain manifests (or, only in the
/// environment's own `qbeast-observability` workspace, the observability stack the controller generates).
public struct ComponentSpec: Codable, Equatable, Sendable {
    public var name: String
    public var chart: ChartReference?
    public var manifests: [JSONValue]?
    /// Set by the controller alone, from the environment's `observability`; refused in operator specs.
    public var observability: ObservabilityStackSource?

    public init(name: String, chart: ChartReference? = nil, manifests: [JSONValue]? = nil, observability: ObservabilityStackSource? = nil) {
        self.name = name
        self.chart = chart
        self.manifests = manifests
        self.observability = observability
    }

    public func validate(field: String) throws(ValidationError) {
        try ResourceName.validate(name, field: "\(field).name")
        if observability != nil {
            throw ValidationError(
                field: "\(field).observability",
                reason: "the observability stack is set on the environment (`observability`), not in a workspace")
        }
        switch (chart, manifests) {
        case (nil, nil):
            throw ValidationError(field: field, reason: "a component needs either `chart` or `manifests`")
        case (.some, .some):
            throw ValidationError(field: field, reason: "a component has either `chart` or `manifests`, not both")
        case (.some(let chart), nil):
            try chart.validate(field: "\(field).chart")
        case (nil, .some(let manifests)):
            for (index, manifest) in manifests.enumerated() {
                try KubernetesObjectRules.validate(manifest, field: "\(field).manifests[\(index)]")
                if manifest["metadata"]?["labels"]?[SupportAccessLabels.gate] != nil {
                    throw ValidationError(
                        field: "\(field).manifests[\(index)].metadata.labels",
                        reason: "the label \(SupportAccessLabels.gate) is reserved: \(SupportAccessRefused.reason)")
                }
            }
        }
    }
}

/// The observability component of an environment: its settings and Qbeast's open request for support
/// access, if any (shown to the customer; it grants nothing).
public struct ObservabilityStackSource: Codable, Equatable, Sendable {
    public var spec: ObservabilitySpec
    public var supportAccessRequest: SupportAccessRequest?

    public init(spec: ObservabilitySpec, supportAccessRequest: SupportAccessRequest? = nil) {
        self.spec = spec
        self.supportAccessRequest = supportAccessRequest
    }
}

/// Labels by which the agent recognises the support-access parts of a component.
public enum SupportAccessLabels {
    /// `gated`: applied only while the customer's grant is in force (the OIDC proxy and its Service).
    /// `request`: the ConfigMap carrying Qbeast's request to the customer.
    public static let gate = "qbeast.io/support-access"
    public static let gated = "gated"
    public static let request = "request"
}

public struct ChartReference: Codable, Equatable, Sendable {
    public var repository: String
    public var chart: String
    public var version: String
    public var values: JSONValue?

    public init(repository: String, chart: String, version: String, values: JSONValue? = nil) {
        self.repository = repository
        self.chart = chart
        self.version = version
        self.values = values
    }

    func validate(field: String) throws(ValidationError) {
        guard repository.hasPrefix("oci://") || repository.hasPrefix("https://") else {
            throw ValidationError(field: "\(field).repository", reason: "must start with oci:// or https://")
        }
        if chart.isEmpty { throw ValidationError(field: "\(field).chart", reason: "must not be empty") }
        if version.isEmpty { throw ValidationError(field: "\(field).version", reason: "must not be empty") }
    }
}

/// Which alert labels and annotations may cross to the controller. `nil` lists mean the defaults:
/// every label the rule produces, and the `summary` and `description` annotations.
public struct AlertAllowlist: Codable, Equatable, Sendable {
    public var labels: [String]?
    public var annotations: [String]?

    public static let defaultAnnotations = ["summary", "description"]

    public init(labels: [String]? = nil, annotations: [String]? = nil) {
        self.labels = labels
        self.annotations = annotations
    }
}
