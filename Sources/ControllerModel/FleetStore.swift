import Foundation
import SplitPlaneProtocol

/// Tenants, environments and workspaces as operators declare them, and what each environment's agent
/// reads and reports: the desired state, resolved components, status.
public protocol FleetStore: Sendable {
    func createTenant(_ request: TenantRequest, at now: Date) async throws -> Tenant
    func tenants() async throws -> [Tenant]
    func tenant(_ name: String) async throws -> Tenant?
    func deleteTenant(_ name: String) async throws

    func createEnvironment(tenant: String, _ request: EnvironmentRequest, at now: Date) async throws -> Environment
    func environments(tenant: String) async throws -> [Environment]
    func environment(tenant: String, name: String) async throws -> Environment?
    /// Returns the revision the deletion was recorded at. Nothing of the environment's identity
    /// outlives it: its certificates are revoked (at `now`), its unused enrollment tokens and its
    /// service-account trust go, so an environment created again under the same name inherits none.
    func deleteEnvironment(tenant: String, name: String, at now: Date) async throws -> Int64
    /// Changes an environment's namespace and registry and replaces the resolved components of every one
    /// of its workspaces, in one transaction. Refuses (`conflict`) when the environment's settings are no
    /// longer `expected`, or its workspaces are no longer those `workspaces` were resolved from (names and
    /// generations): someone changed them while the components were being resolved.
    func updateEnvironmentSettings(
        tenant: String, name: String, from expected: EnvironmentSettings, to settings: EnvironmentSettings,
        workspaces: [ResolvedWorkspace], at now: Date
    ) async throws -> EnvironmentUpdateResult

    /// Creates or replaces a workspace's spec and its components resolved for `settings`; the generation
    /// moves only when the spec or what it resolves to changes. Refuses (`conflict`) when the
    /// environment's settings are no longer `settings`.
    /// `precondition` is checked in the same transaction (`preconditionFailed` when it does not hold).
    func applyWorkspace(
        tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
        resolvedFor settings: EnvironmentSettings, precondition: GenerationPrecondition, at now: Date
    ) async throws -> WorkspaceApplyResult
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
    /// Moves each environment's agent-last-seen forward (never back), all in one transaction;
    /// environments that no longer exist are passed over.
    func recordLastSeen(_ sightings: [AgentSighting]) async throws
}

extension FleetStore {
    public func applyWorkspace(
        tenant: String, environment: String, name: String, spec: WorkspaceSpec, components: [ResolvedComponent],
        resolvedFor settings: EnvironmentSettings, at now: Date
    ) async throws -> WorkspaceApplyResult {
        try await applyWorkspace(
            tenant: tenant, environment: environment, name: name, spec: spec, components: components,
            resolvedFor: settings, precondition: .any, at: now)
    }

    public func deleteWorkspace(tenant: String, environment: String, name: String) async throws -> Int64 {
        try await deleteWorkspace(tenant: tenant, environment: environment, name: name, precondition: .any)
    }
}
