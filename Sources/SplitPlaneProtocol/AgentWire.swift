import Foundation

/// `GET /agent/v1/desired` answer: every workspace of the agent's environment at one revision.
public struct DesiredState: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "DesiredState"
    public var tenant: String
    public var environment: String
    /// Monotonic across the controller; the agent passes it back as `after` in its next long poll.
    public var revision: Int64
    public var workspaces: [DesiredWorkspace]
    /// PEM CA certificates the agent should trust the controller with. During a CA rotation it holds
    /// the old and the new CA, so agents have the new one before the old is retired.
    public var trustBundle: String?
    /// The controller's limits on alert shape; the agent trims its alerts to them before sending.
    /// Absent from older controllers: the agent then uses `AlertLimits.default`.
    public var alertLimits: AlertLimits?

    public init(tenant: String, environment: String, revision: Int64, workspaces: [DesiredWorkspace]) {
        self.tenant = tenant
        self.environment = environment
        self.revision = revision
        self.workspaces = workspaces
    }
}

public struct DesiredWorkspace: Codable, Equatable, Sendable {
    public var name: String
    /// Bumped by the controller whenever the spec or what it resolves to changes; echoed as `observedGeneration`.
    public var generation: Int64
    /// The resolved components by content hash; the agent fetches the manifests of a hash it does not
    /// hold yet (`GET /agent/v1/components/{hash}`), so a reconnect exchanges only what changed.
    public var components: [ComponentRef]
    public var ruleGroups: [RuleGroup]
    public var alertAllowlist: AlertAllowlist?

    public init(
        name: String, generation: Int64, components: [ComponentRef] = [], ruleGroups: [RuleGroup] = [],
        alertAllowlist: AlertAllowlist? = nil
    ) {
        self.name = name
        self.generation = generation
        self.components = components
        self.ruleGroups = ruleGroups
        self.alertAllowlist = alertAllowlist
    }

    /// The alerting half of the spec, as the rule engine compiles it.
    public var rules: WorkspaceSpec { WorkspaceSpec(ruleGroups: ruleGroups, alertAllowlist: alertAllowlist) }
}

/// `PUT /agent/v1/status`: what the agent observed, per workspace, plus facts about itself.
public struct StatusReport: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "StatusReport"
    public var agent: AgentFacts
    public var workspaces: [WorkspaceStatus]

    public init(agent: AgentFacts, workspaces: [WorkspaceStatus]) {
        self.agent = agent
        self.workspaces = workspaces
    }

    public func validate() throws(ValidationError) {
        try validateKind(apiVersion: apiVersion, kind: kind, expected: "StatusReport")
        for (index, workspace) in workspaces.enumerated() {
            try ResourceName.validate(workspace.name, field: "workspaces[\(index)].name")
        }
    }
}

public struct AgentFacts: Codable, Equatable, Sendable {
    /// Random id the agent makes once and keeps in its state directory.
    public var instance: String
    public var version: String
    public var certificateExpiry: Date?
    public var rulesLoaded: Int
    public var metricsStoreReachable: Bool?
    public var desiredRevision: Int64
    /// The Kubernetes namespace the agent installs into (nil when it has no cluster configured).
    public var namespace: String?
    /// Support access as the customer set it and the agent enforces it (nil from agents that install nothing).
    public var supportAccess: SupportAccessStatus?

    public init(
        instance: String, version: String, certificateExpiry: Date?, rulesLoaded: Int,
        metricsStoreReachable: Bool?, desiredRevision: Int64, namespace: String? = nil
    ) {
        self.namespace = namespace
        self.instance = instance
        self.version = version
        self.certificateExpiry = certificateExpiry
        self.rulesLoaded = rulesLoaded
        self.metricsStoreReachable = metricsStoreReachable
        self.desiredRevision = desiredRevision
    }
}

public struct WorkspaceStatus: Codable, Equatable, Sendable {
    public var name: String
    public var observedGeneration: Int64
    public var conditions: [Condition]
    public var components: [ComponentStatus]

    public init(name: String, observedGeneration: Int64, conditions: [Condition], components: [ComponentStatus]) {
        self.name = name
        self.observedGeneration = observedGeneration
        self.conditions = conditions
        self.components = components
    }
}

/// What the agent observed of one component: the hash it applied and each object's state.
public struct ComponentStatus: Codable, Equatable, Sendable {
    public var name: String
    /// `Pending`, `Applying`, `Progressing`, `Ready`, `Degraded`, `Failed` or `Refused`.
    public var state: String
    public var message: String?
    /// Content hash of the resolved component last applied (nil before the first apply).
    public var appliedHash: String?
    public var objects: [ObjectStatus]?
    /// `Applied`, `Ready` and `Degraded` of this component alone (nil from agents that install nothing).
    public var conditions: [Condition]?

    public init(
        name: String, state: String, message: String? = nil, appliedHash: String? = nil, objects: [ObjectStatus]? = nil,
        conditions: [Condition]? = nil
    ) {
        self.name = name
        self.state = state
        self.message = message
        self.appliedHash = appliedHash
        self.objects = objects
        self.conditions = conditions
    }
}

/// One Kubernetes object of a component, with the API server's own words when it is not ready.
public struct ObjectStatus: Codable, Equatable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    /// `Ready`, `Progressing`, `Failed`, `Refused` or `Pending`.
    public var state: String
    public var message: String?

    public init(apiVersion: String, kind: String, name: String, state: String, message: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.state = state
        self.message = message
    }
}

/// `POST /agent/v1/alerts`: one batch from the agent's outbox. The controller stores each
/// (environment, instance, sequence) once, so the agent may resend a batch as often as it likes.
public struct AlertBatch: Codable, Equatable, Sendable, ClosedDecodable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "AlertBatch"
    public var instance: String
    public var sequence: Int64
    public var alerts: [AgentAlert]
    /// Batches the agent had to drop because its outbox was full (oldest first), reported so the
    /// loss is visible rather than silent.
    public var droppedBatches: Int64?

    public init(instance: String, sequence: Int64, alerts: [AgentAlert], droppedBatches: Int64? = nil) {
        self.instance = instance
        self.sequence = sequence
        self.alerts = alerts
        self.droppedBatches = droppedBatches
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, instance, sequence, alerts, droppedBatches }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decode(String.self, forKey: .apiVersion)
        kind = try container.decode(String.self, forKey: .kind)
        instance = try container.decode(String.self, forKey: .instance)
        sequence = try container.decode(Int64.self, forKey: .sequence)
        alerts = try container.decode([AgentAlert].self, forKey: .alerts)
        droppedBatches = try container.decodeIfPresent(Int64.self, forKey: .droppedBatches)
    }

    public static var maxAlerts: Int { AlertLimits.default.maxAlertsPerBatch }

    public func validate(limits: AlertLimits = .default) throws(ValidationError) {
        try validateKind(apiVersion: apiVersion, kind: kind, expected: "AlertBatch")
        if instance.isEmpty || instance.count > 64 {
            throw ValidationError(field: "instance", reason: "must be 1 to 64 characters")
        }
        if sequence < 1 { throw ValidationError(field: "sequence", reason: "must be a positive integer") }
        if alerts.count > limits.maxAlertsPerBatch {
            throw ValidationError(field: "alerts", reason: "\(alerts.count) alerts; the limit is \(limits.maxAlertsPerBatch) per batch")
        }
        for (index, alert) in alerts.enumerated() {
            try alert.validate(field: "alerts[\(index)]")
            try limits.check(alert, field: "alerts[\(index)]")
        }
    }
}

/// Answer to an alert batch: the agent deletes the batch from its outbox once it has this.
public struct AlertBatchReceipt: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "AlertBatchReceipt"
    public var sequence: Int64
    /// The batch had been stored before (a resend).
    public var duplicate: Bool
    /// Alerts not kept because they name a workspace the environment does not have.
    public var refused: Int?

    public init(sequence: Int64, duplicate: Bool, refused: Int? = nil) {
        self.sequence = sequence
        self.duplicate = duplicate
        self.refused = refused
    }
}

public enum AlertState: String, Codable, Sendable { case firing, resolved }

public struct AgentAlert: Codable, Equatable, Sendable {
    public var workspace: String
    public var state: AlertState
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date
    public var endsAt: Date?
    public var value: Double?

    public init(
        workspace: String, state: AlertState, labels: [String: String], annotations: [String: String],
        startsAt: Date, endsAt: Date? = nil, value: Double? = nil
    ) {
        self.workspace = workspace
        self.state = state
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.value = value
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case workspace, state, labels, annotations, startsAt, endsAt, value }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        workspace = try container.decode(String.self, forKey: .workspace)
        state = try container.decode(AlertState.self, forKey: .state)
        labels = try container.decode([String: String].self, forKey: .labels)
        annotations = try container.decode([String: String].self, forKey: .annotations)
        startsAt = try container.decode(Date.self, forKey: .startsAt)
        endsAt = try container.decodeIfPresent(Date.self, forKey: .endsAt)
        value = try container.decodeIfPresent(Double.self, forKey: .value)
    }

    /// Labels the controller sets from the certificate; an agent may not claim them.
    public static let reservedLabels: Set<String> = ["tenant", "environment"]

    public func validate(field: String) throws(ValidationError) {
        try ResourceName.validate(workspace, field: "\(field).workspace")
        guard labels["alertname"].map({ !$0.isEmpty }) == true else {
            throw ValidationError(field: "\(field).labels.alertname", reason: "every alert needs an `alertname` label")
        }
        for name in labels.keys.sorted() {
            if !PrometheusLabelName.isValid(name) {
                throw ValidationError(field: "\(field).labels.\(name)", reason: "\"\(name)\" is not a valid label name")
            }
            if Self.reservedLabels.contains(name) {
                throw ValidationError(field: "\(field).labels.\(name)", reason: "`\(name)` is set by the controller from the agent's certificate")
            }
        }
    }

    /// Identity of the alert within its environment: a hash of its sorted labels, as Alertmanager does.
    public var fingerprint: String { Fingerprint.of(labels: labels) }
}

func validateKind(apiVersion: String, kind: String, expected: String) throws(ValidationError) {
    if apiVersion != APIVersion.agentV1 {
        throw ValidationError(field: "apiVersion", reason: "expected \"\(APIVersion.agentV1)\", got \"\(apiVersion)\"")
    }
    if kind != expected { throw ValidationError(field: "kind", reason: "expected \"\(expected)\", got \"\(kind)\"") }
}
