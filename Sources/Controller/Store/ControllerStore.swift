import Foundation
import SplitPlaneProtocol

/// Everything the controller persists. SQLite is the embedded implementation; a PostgreSQL one for
/// several replicas implements the same protocol and passes the same test suite.
public protocol ControllerStore: AlertingStore, IdentityStore, TokenStore {
    func createTenant(_ request: TenantRequest, at now: Date) async throws -> Tenant
    func tenants() async throws -> [Tenant]
    func tenant(_ name: String) async throws -> Tenant?
    func deleteTenant(_ name: String) async throws

    func createEnvironment(tenant: String, _ request: EnvironmentRequest, at now: Date) async throws -> Environment
    func environments(tenant: String) async throws -> [Environment]
    func environment(tenant: String, name: String) async throws -> Environment?
    /// Returns the revision the deletion was recorded at.
    func deleteEnvironment(tenant: String, name: String) async throws -> Int64
    /// Changes an environment's namespace and registry and replaces the resolved components of every one
    /// of its workspaces, in one transaction. Refuses (`conflict`) when the environment's settings are no
    /// longer `expected`, or its workspaces are no longer those `workspaces` were resolved from (names and
    /// generations): someone changed them while the components were being resolved.
    func updateEnvironmentSettings(tenant: String, name: String, from expected: EnvironmentSettings, to settings: EnvironmentSettings,
                                   workspaces: [ResolvedWorkspace], at now: Date) async throws -> EnvironmentUpdateResult

    /// Creates or replaces a workspace's spec and its components resolved for `settings`; the generation
    /// moves only when the spec or what it resolves to changes. Refuses (`conflict`) when the
    /// environment's settings are no longer `settings`.
    /// `precondition` is checked in the same transaction (`preconditionFailed` when it does not hold).
    func applyWorkspace(tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
                        resolvedFor settings: EnvironmentSettings, precondition: GenerationPrecondition, at now: Date) async throws -> WorkspaceApplyResult
    func workspaces(tenant: String, environment: String) async throws -> [Workspace]
    func workspace(tenant: String, environment: String, name: String) async throws -> Workspace?
    /// Names of the environment's workspaces (empty when the environment does not exist).
    func workspaceNames(tenant: String, environment: String) async throws -> Set<String>
    /// Returns the new desired-state revision of the environment.
    func deleteWorkspace(tenant: String, environment: String, name: String, precondition: GenerationPrecondition) async throws -> Int64

    /// The agent's view of its environment; nil when the environment does not exist.
    func desiredState(tenant: String, environment: String) async throws -> DesiredState?
    /// The resolved component with `hash` of one of the environment's workspaces; nil when it has none.
    func resolvedComponent(tenant: String, environment: String, hash: String) async throws -> ResolvedComponent?
    func recordStatus(tenant: String, environment: String, report: StatusReport, at now: Date) async throws
    /// Stores a batch unless (tenant, environment, instance, sequence) was stored before, and puts each
    /// alert into the groups `assign` names, in the same transaction. Returns false for a duplicate.
    func recordAlertBatch(tenant: String, environment: String, batch: AlertBatch, at now: Date, assign: AlertAssigner) async throws -> Bool
    func alerts(_ filter: AlertFilter) async throws -> [StoredAlert]
}

extension ControllerStore {
    public func applyWorkspace(tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
                               resolvedFor settings: EnvironmentSettings, at now: Date) async throws -> WorkspaceApplyResult {
        try await applyWorkspace(tenant: tenant, environment: environment, name: name, spec: spec, components: components,
                                 resolvedFor: settings, precondition: .any, at: now)
    }

    public func deleteWorkspace(tenant: String, environment: String, name: String) async throws -> Int64 {
        try await deleteWorkspace(tenant: tenant, environment: environment, name: name, precondition: .any)
    }
}

/// What a write expects of the workspace it changes (from `If-Match` / `If-None-Match`).
public enum GenerationPrecondition: Sendable, Equatable {
    case any
    /// `If-None-Match: *`: create only.
    case absent
    /// `If-Match: *`: it must exist.
    case exists
    /// `If-Match: "<generation>"`: it must still be at this generation.
    case generation(Int64)

    /// Why the precondition fails for a workspace at `current` (nil: absent), or nil when it holds.
    func failure(_ what: String, current: Int64?) -> String? {
        switch (self, current) {
        case (.any, _), (.absent, nil), (.exists, _?): return nil
        case (.absent, _?): return "\(what) already exists (If-None-Match: *)"
        case (.exists, nil), (.generation, nil): return "\(what) does not exist, so If-Match cannot hold"
        case (.generation(let expected), let actual?):
            return expected == actual ? nil
                : "\(what) is at generation \(actual), not \(expected): it changed since you read it; GET it again and reapply your change"
        }
    }
}

public struct WorkspaceApplyResult: Sendable {
    public var workspace: Workspace
    public var created: Bool
    /// The environment's new desired-state revision, or nil when nothing changed.
    public var revision: Int64?
}

/// A workspace's components resolved anew, and the generation of the spec they were resolved from.
public struct ResolvedWorkspace: Sendable {
    public var name: String
    public var generation: Int64
    public var components: [ResolvedComponent]

    public init(name: String, generation: Int64, components: [ResolvedComponent]) {
        self.name = name
        self.generation = generation
        self.components = components
    }
}

public struct EnvironmentUpdateResult: Sendable {
    public var environment: Environment
    /// The environment's new desired-state revision, or nil when nothing changed.
    public var revision: Int64?
}

public struct AlertFilter: Sendable, Equatable {
    public var tenant: String?
    public var environment: String?
    public var state: AlertState?

    public init(tenant: String? = nil, environment: String? = nil, state: AlertState? = nil) {
        self.tenant = tenant
        self.environment = environment
        self.state = state
    }
}

/// Store refusals that map onto HTTP answers (404, 409) with a message meant for the operator.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    /// An `If-Match` / `If-None-Match` that does not hold (412).
    case preconditionFailed(String)

    public var description: String {
        switch self {
        case .notFound(let message), .conflict(let message), .preconditionFailed(let message): message
        }
    }
}
