import Foundation

public struct EnvironmentRequest: Codable, Equatable, Sendable {
    public var name: String
    public var cloud: Cloud
    public var mode: EnvironmentMode
    /// The namespace the customer installs the agent in (default `qbeast`); components are rendered for it.
    public var namespace: String?
    /// The environment's pull-through proxy of GHCR (see `ImageRegistry`); without it images stay as given.
    public var registry: String?

    public init(name: String, cloud: Cloud, mode: EnvironmentMode, namespace: String? = nil, registry: String? = nil) {
        self.name = name
        self.cloud = cloud
        self.mode = mode
        self.namespace = namespace
        self.registry = registry
    }

    public func validate() throws(ValidationError) {
        try ResourceName.validate(name, field: "name")
        if let namespace { try ResourceName.validate(namespace, field: "namespace") }
        if let registry { try ImageRegistry.validate(registry, cloud: cloud) }
    }
}

/// Body of `PATCH …/environments/{e}` (JSON merge patch): only `registry` and `namespace` can change.
/// `"registry": null` removes the registry; `"namespace": null` restores the default namespace.
public struct EnvironmentPatch: Codable, Equatable, Sendable, ClosedDecodable {
    public enum Change<Value: Equatable & Sendable>: Equatable, Sendable {
        case set(Value)
        case remove
    }

    public var registry: Change<String>?
    public var namespace: Change<String>?
    /// The observability stack, replaced as a whole; `null` (or `enabled: false`) removes it.
    public var observability: Change<ObservabilitySpec>?

    public init(registry: Change<String>? = nil, namespace: Change<String>? = nil, observability: Change<ObservabilitySpec>? = nil) {
        self.registry = registry
        self.namespace = namespace
        self.observability = observability
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case registry, namespace, observability }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Unknown fields are refused, explicit nulls of them included: a typo must not pass silently.
        for key in try decoder.container(keyedBy: AnyPatchKey.self).allKeys where CodingKeys(rawValue: key.stringValue) == nil {
            throw StrictJSON.UnknownField(path: key.stringValue)
        }
        func change(_ key: CodingKeys) throws -> Change<String>? {
            guard container.contains(key) else { return nil }
            return try container.decodeNil(forKey: key) ? .remove : .set(container.decode(String.self, forKey: key))
        }
        registry = try change(.registry)
        namespace = try change(.namespace)
        if container.contains(.observability) {
            observability =
                try container.decodeNil(forKey: .observability)
                ? .remove : .set(container.decode(ObservabilitySpec.self, forKey: .observability))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for (key, change) in [(CodingKeys.registry, registry), (.namespace, namespace)] {
            switch change {
            case nil: break
            case .remove?: try container.encodeNil(forKey: key)
            case .set(let value)?: try container.encode(value, forKey: key)
            }
        }
        switch observability {
        case nil: break
        case .remove?: try container.encodeNil(forKey: .observability)
        case .set(let value)?: try container.encode(value, forKey: .observability)
        }
    }

    /// The observability stack after this patch: nil when it is off. Validated.
    public func observability(after current: ObservabilitySpec?) throws(ValidationError) -> ObservabilitySpec? {
        switch observability {
        case nil: return current
        case .remove?: return nil
        case .set(let spec)?:
            guard spec.enabled else { return nil }
            try spec.validate()
            return spec
        }
    }

    /// The environment's settings after this patch, validated for `cloud`.
    public func applied(to current: EnvironmentSettings, cloud: Cloud) throws(ValidationError) -> EnvironmentSettings {
        var result = current
        switch namespace {
        case nil: break
        case .remove?: result.namespace = EnvironmentSettings.defaultNamespace
        case .set(let value)?:
            try ResourceName.validate(value, field: "namespace")
            result.namespace = value
        }
        switch registry {
        case nil: break
        case .remove?: result.registry = nil
        case .set(let value)?:
            try ImageRegistry.validate(value, cloud: cloud)
            result.registry = value
        }
        return result
    }

    private struct AnyPatchKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension EnvironmentRequest {
    /// The reserved workspace the observability stack is delivered in: installed, reported and pruned
    /// like any workspace, but written only by the controller.
    public static let observabilityWorkspace = "qbeast-observability"
}

/// What components of an environment are resolved for: the agent's namespace and the registry images
/// are pulled through.
public struct EnvironmentSettings: Codable, Equatable, Hashable, Sendable {
    public static let defaultNamespace = "qbeast"

    public var namespace: String
    public var registry: String?

    public init(namespace: String = EnvironmentSettings.defaultNamespace, registry: String? = nil) {
        self.namespace = namespace
        self.registry = registry
    }
}

public struct Environment: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "Environment"
    public var tenant: String
    public var name: String
    public var cloud: Cloud
    public var mode: EnvironmentMode
    /// The namespace the agent runs and installs components in.
    public var namespace: String
    /// Pull-through proxy of GHCR that `ghcr.io` images are rewritten to; nil leaves images as given.
    public var registry: String?
    public var desiredRevision: Int64
    public var createdAt: Date
    /// Last facts the environment's agent reported, if it ever connected.
    public var agent: AgentFacts?
    public var agentLastSeen: Date?
    /// Computed when the environment is read, e.g. `AgentVersionSupported`, and for a managed environment
    /// its `Provisioned` / `Deprovisioning` conditions.
    public var conditions: [Condition]?
    /// The observability stack, when enabled (read from the environment's `qbeast-observability` workspace;
    /// only on reads of one environment).
    public var observability: ObservabilitySpec?
    /// Qbeast's open request for support access, if any; whether it is granted is in `agent.supportAccess`.
    public var supportAccessRequest: SupportAccessRequest?
    /// Managed environments: the cloud access the customer handed back (nil until recorded).
    public var cloudAccess: CloudAccess?
    /// Managed environments: what the provisioner last saw of the Crossplane XR (nil before it looked).
    public var provisioning: Provisioning?

    public init(
        tenant: String, name: String, cloud: Cloud, mode: EnvironmentMode, desiredRevision: Int64,
        createdAt: Date, agent: AgentFacts? = nil, agentLastSeen: Date? = nil,
        namespace: String = EnvironmentSettings.defaultNamespace, registry: String? = nil,
        cloudAccess: CloudAccess? = nil, provisioning: Provisioning? = nil
    ) {
        self.cloudAccess = cloudAccess
        self.provisioning = provisioning
        self.tenant = tenant
        self.name = name
        self.cloud = cloud
        self.mode = mode
        self.namespace = namespace
        self.registry = registry
        self.desiredRevision = desiredRevision
        self.createdAt = createdAt
        self.agent = agent
        self.agentLastSeen = agentLastSeen
    }

    public var settings: EnvironmentSettings { EnvironmentSettings(namespace: namespace, registry: registry) }
}
