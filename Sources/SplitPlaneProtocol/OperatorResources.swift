import Foundation

// Resources of the operator REST API (`/v1/...`), shared by the controller and `qbctl`.

public struct TenantRequest: Codable, Equatable, Sendable {
    public var name: String
    public var displayName: String?

    public init(name: String, displayName: String? = nil) {
        self.name = name
        self.displayName = displayName
    }

    public func validate() throws(ValidationError) {
        try ResourceName.validate(name, field: "name")
        if let displayName, displayName.count > 200 {
            throw ValidationError(field: "displayName", reason: "at most 200 characters")
        }
    }
}

public struct Tenant: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "Tenant"
    public var name: String
    public var displayName: String?
    public var createdAt: Date

    public init(name: String, displayName: String?, createdAt: Date) {
        self.name = name
        self.displayName = displayName
        self.createdAt = createdAt
    }
}

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

    public init(registry: Change<String>? = nil, namespace: Change<String>? = nil) {
        self.registry = registry
        self.namespace = namespace
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case registry, namespace }

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
    /// Computed when the environment is read, e.g. `AgentVersionSupported`.
    public var conditions: [Condition]?

    public init(tenant: String, name: String, cloud: Cloud, mode: EnvironmentMode, desiredRevision: Int64,
                createdAt: Date, agent: AgentFacts? = nil, agentLastSeen: Date? = nil,
                namespace: String = EnvironmentSettings.defaultNamespace, registry: String? = nil) {
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

public struct Workspace: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "Workspace"
    public var tenant: String
    public var environment: String
    public var name: String
    public var generation: Int64
    public var spec: WorkspaceSpec
    public var status: ReportedWorkspaceStatus?
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenant: String, environment: String, name: String, generation: Int64, spec: WorkspaceSpec,
                status: ReportedWorkspaceStatus?, createdAt: Date, updatedAt: Date) {
        self.tenant = tenant
        self.environment = environment
        self.name = name
        self.generation = generation
        self.spec = spec
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What the agent last reported for a workspace, and when.
public struct ReportedWorkspaceStatus: Codable, Equatable, Sendable {
    public var observedGeneration: Int64
    public var conditions: [Condition]
    public var components: [ComponentStatus]
    public var reportedAt: Date

    public init(observedGeneration: Int64, conditions: [Condition], components: [ComponentStatus], reportedAt: Date) {
        self.observedGeneration = observedGeneration
        self.conditions = conditions
        self.components = components
        self.reportedAt = reportedAt
    }
}

/// An alert as the controller holds it: attributed to tenant and environment from the agent's certificate.
public struct StoredAlert: Codable, Equatable, Sendable {
    public var tenant: String
    public var environment: String
    public var workspace: String
    public var fingerprint: String
    public var state: AlertState
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date
    public var endsAt: Date?
    public var value: Double?
    public var receivedAt: Date

    public init(tenant: String, environment: String, workspace: String, fingerprint: String, state: AlertState,
                labels: [String: String], annotations: [String: String], startsAt: Date, endsAt: Date?,
                value: Double?, receivedAt: Date) {
        self.tenant = tenant
        self.environment = environment
        self.workspace = workspace
        self.fingerprint = fingerprint
        self.state = state
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.value = value
        self.receivedAt = receivedAt
    }
}

/// Every list answer has this shape, so pagination can be added without breaking clients.
public struct ListResponse<Item: Codable & Sendable & Equatable>: Codable, Equatable, Sendable {
    public var items: [Item]
    /// Opaque cursor of the next page (`?cursor=`); absent on the last page.
    public var next: String?

    public init(items: [Item], next: String? = nil) {
        self.items = items
        self.next = next
    }
}

/// RFC 9457 problem details, the body of every error answer.
public struct Problem: Codable, Equatable, Sendable, Error {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?

    public init(type: String = "about:blank", title: String, status: Int, detail: String, instance: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
    }

    public static let contentType = "application/problem+json"
}

/// What an operator API token may do.
public enum APIRole: String, Codable, Sendable, CaseIterable {
    /// Everything, including managing tokens.
    case admin
    /// Every tenant, every action except token management.
    case `operator`
    /// One tenant: read and change it; other tenants do not exist for it.
    case editor
    /// One tenant: read only.
    case viewer

    public var isTenantScoped: Bool { self == .editor || self == .viewer }
}

/// Body of `POST /v1/tokens`.
public struct APITokenRequest: Codable, Equatable, Sendable {
    public var name: String
    public var role: APIRole
    /// Required for `editor` and `viewer`; refused for the others.
    public var tenant: String?

    public init(name: String, role: APIRole, tenant: String? = nil) {
        self.name = name
        self.role = role
        self.tenant = tenant
    }

    public func validate() throws(ValidationError) {
        try ResourceName.validate(name, field: "name")
        switch (role.isTenantScoped, tenant) {
        case (true, nil): throw ValidationError(field: "tenant", reason: "required for role \(role.rawValue)")
        case (true, let tenant?): try ResourceName.validate(tenant, field: "tenant")
        case (false, nil): break
        case (false, _?): throw ValidationError(field: "tenant", reason: "only editor and viewer tokens are tenant-scoped")
        }
    }
}

/// A token as listed: never its secret.
public struct APIToken: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "APIToken"
    public var id: String
    public var name: String
    public var role: APIRole
    public var tenant: String?
    public var createdAt: Date
    public var createdBy: String
    public var revokedAt: Date?
    /// Only in the answer to `POST /v1/tokens`, once.
    public var token: String?

    public init(id: String, name: String, role: APIRole, tenant: String?, createdAt: Date, createdBy: String, revokedAt: Date?, token: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.tenant = tenant
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
        self.token = token
    }
}
