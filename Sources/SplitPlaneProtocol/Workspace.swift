import Foundation

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

    public init(
        tenant: String, environment: String, name: String, generation: Int64, spec: WorkspaceSpec,
        status: ReportedWorkspaceStatus?, createdAt: Date, updatedAt: Date
    ) {
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
