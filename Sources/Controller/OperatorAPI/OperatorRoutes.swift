import ControllerModel
import Foundation
import HTTPTypes
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// The operator REST API: tenants → environments → workspaces, and received alerts.
struct OperatorRoutes {
    typealias Context = OperatorRequestContext
    let store: (any FleetStore & AlertingStore & AuditStore & ManagedEnvironmentStore)
    let resolver: ComponentResolver
    let clock: any TimeSource
    let bodyLimit: Int
    /// Cloud access recorded or a teardown confirmed: the provisioner looks now, not at its next resync.
    var wakeProvisioner: @Sendable () -> Void = {}
    /// Whether this controller provisions managed environments (`--crossplane-kubeconfig`).
    var provisions = false
    var agentVersions = AgentVersionPolicy()

    var observability: ObservabilityRoutes { ObservabilityRoutes(store: store, resolver: resolver, clock: clock) }

    func register(on group: RouterGroup<Context>) {
        observability.register(on: group)
        group.post("tenants", use: createTenant)
        group.get("tenants", use: listTenants)
        group.get("tenants/:tenant", use: getTenant)
        group.delete("tenants/:tenant", use: deleteTenant)

        group.post("tenants/:tenant/environments", use: createEnvironment)
        group.get("environments", use: listAllEnvironments)
        group.get("tenants/:tenant/environments", use: listEnvironments)
        group.get("tenants/:tenant/environments/:environment", use: getEnvironment)
        group.patch("tenants/:tenant/environments/:environment", use: patchEnvironment)
        group.delete("tenants/:tenant/environments/:environment", use: deleteEnvironment)
        group.put("tenants/:tenant/environments/:environment/cloud-access", use: setCloudAccess)

        group.put("tenants/:tenant/environments/:environment/workspaces/:workspace", use: applyWorkspace)
        group.get("tenants/:tenant/environments/:environment/workspaces", use: listWorkspaces)
        group.get("tenants/:tenant/environments/:environment/workspaces/:workspace", use: getWorkspace)
        group.delete("tenants/:tenant/environments/:environment/workspaces/:workspace", use: deleteWorkspace)

        group.get("alerts", use: listAlerts)
    }

    // MARK: Tenants

    @Sendable func createTenant(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONBodies.decode(TenantRequest.self, from: request, limit: bodyLimit)
        try body.validate()
        let tenant = try await store.createTenant(body, at: clock.now())
        return try JSONBodies.response(tenant, status: .created, headers: [.location: "/v1/tenants/\(tenant.name)"])
    }

    @Sendable func listTenants(_ request: Request, context: Context) async throws -> Response {
        let visible = context.principal?.visibleTenant
        let page = try ListPage(request)
        let prefix = try ListFilter.namePrefix(request)
        let tenants = try await store.tenants().filter { (visible == nil || $0.name == visible) && (prefix.map($0.name.hasPrefix) ?? true) }
        return try JSONBodies.response(page.page(tenants, key: \.name))
    }

    @Sendable func getTenant(_ request: Request, context: Context) async throws -> Response {
        let name = try pathName("tenant", context)
        guard let tenant = try await store.tenant(name) else { throw APIProblem(.notFound, "tenant \"\(name)\" not found") }
        return try JSONBodies.response(tenant)
    }

    @Sendable func deleteTenant(_ request: Request, context: Context) async throws -> Response {
        try await store.deleteTenant(try pathName("tenant", context))
        return Response(status: .noContent)
    }

    // MARK: Environments

    @Sendable func createEnvironment(_ request: Request, context: Context) async throws -> Response {
        let tenant = try pathName("tenant", context)
        let body = try await JSONBodies.decode(EnvironmentRequest.self, from: request, limit: bodyLimit)
        try body.validate()
        let environment = try await store.createEnvironment(tenant: tenant, body, at: clock.now())
        return try JSONBodies.response(
            agentVersions.decorate(environment), status: .created,
            headers: [.location: "/v1/tenants/\(tenant)/environments/\(environment.name)"])
    }

    @Sendable func listEnvironments(_ request: Request, context: Context) async throws -> Response {
        let environments = try await store.environments(tenant: try pathName("tenant", context))
        return try JSONBodies.response(try Self.filtered(environments, request, policy: agentVersions))
    }

    /// `GET /v1/environments`: every environment the caller may see, across tenants (filters as above).
    @Sendable func listAllEnvironments(_ request: Request, context: Context) async throws -> Response {
        var environments: [SplitPlaneProtocol.Environment] = []
        let visible = context.principal?.visibleTenant
        for tenant in try await store.tenants() where visible.map({ $0 == tenant.name }) ?? true {
            environments += try await store.environments(tenant: tenant.name)
        }
        return try JSONBodies.response(try Self.filtered(environments, request, policy: agentVersions))
    }

    /// `?namePrefix=`, `?cloud=`, `?mode=`, `?agentOutdated=true|false`, then a page of the result.
    static func filtered(
        _ environments: [SplitPlaneProtocol.Environment], _ request: Request,
        policy: AgentVersionPolicy
    ) throws -> ListResponse<SplitPlaneProtocol.Environment> {
        let page = try ListPage(request)
        let prefix = try ListFilter.namePrefix(request)
        let cloud = try ListFilter.value(request, "cloud", as: Cloud.self)
        let mode = try ListFilter.value(request, "mode", as: EnvironmentMode.self)
        let outdated = try ListFilter.bool(request, "agentOutdated")
        let decorated = environments.map(policy.decorate).filter { environment in
            let unsupported = environment.conditions?.first?.status == .false
            return (prefix.map(environment.name.hasPrefix) ?? true) && (cloud.map { [$0] } ?? Cloud.allCases).contains(environment.cloud)
                && (mode.map { [$0] } ?? EnvironmentMode.allCases).contains(environment.mode)
                && (outdated.map { $0 == unsupported } ?? true)
        }
        return page.page(decorated) { "\($0.tenant)/\($0.name)" }
    }

    @Sendable func getEnvironment(_ request: Request, context: Context) async throws -> Response {
        let (tenant, name) = (try pathName("tenant", context), try pathName("environment", context))
        guard let environment = try await store.environment(tenant: tenant, name: name) else {
            throw APIProblem(.notFound, "environment \"\(name)\" not found in tenant \"\(tenant)\"")
        }
        return try JSONBodies.response(
            try await observability.decorate(agentVersions.decorate(environment)), headers: EntityTags.header(EntityTags.environment(environment)))
    }

    /// `PATCH …/environments/{e}` (JSON merge patch of `registry` and `namespace`): every workspace is
    /// resolved again for the new settings first; if any fails nothing changes (422 naming it).
    @Sendable func patchEnvironment(_ request: Request, context: Context) async throws -> Response {
        let (tenant, name) = (try pathName("tenant", context), try pathName("environment", context))
        let patch = try await JSONBodies.decode(
            EnvironmentPatch.self, from: request, limit: bodyLimit,
            contentTypes: ["application/merge-patch+json", "application/json"])
        let environment = try await requireEnvironment(tenant, name)
        try EntityTags.checkEnvironment(request, current: environment)
        let settings: EnvironmentSettings
        do throws(ValidationError) {
            settings = try patch.applied(to: environment.settings, cloud: environment.cloud)
        } catch {
            throw APIProblem(.unprocessableContent, error.description)
        }
        let stack = try await observability.current(tenant: tenant, environment: name)
        let wanted: ObservabilitySpec?
        do throws(ValidationError) {
            wanted = try patch.observability(after: stack?.spec)
        } catch {
            throw APIProblem(.badRequest, error.description)
        }
        var updated = environment
        if settings != environment.settings {
            updated = try await updateSettings(environment, to: settings)
        }
        if wanted != stack?.spec {
            // The stack's own workspace, for the settings now stored; an open request stays open.
            try await observability.store(
                wanted.map { ObservabilityStackSource(spec: $0, supportAccessRequest: stack?.supportAccessRequest) }, tenant: tenant,
                environment: updated)
            updated = try await requireEnvironment(tenant, name)
        }
        return try JSONBodies.response(
            try await observability.decorate(agentVersions.decorate(updated)), headers: EntityTags.header(EntityTags.environment(updated)))
    }

    /// Every workspace resolved again for `settings` first; if any fails nothing changes (422 naming it).
    private func updateSettings(
        _ environment: SplitPlaneProtocol.Environment, to settings: EnvironmentSettings
    ) async throws -> SplitPlaneProtocol.Environment {
        let (tenant, name) = (environment.tenant, environment.name)
        var resolved: [ResolvedWorkspace] = []
        for workspace in try await store.workspaces(tenant: tenant, environment: name) {
            do throws(ComponentResolutionError) {
                resolved.append(
                    ResolvedWorkspace(
                        name: workspace.name, generation: workspace.generation,
                        components: try await resolver.resolve(workspace.spec, for: settings)))
            } catch {
                var error = error
                error.workspace = workspace.name
                throw error
            }
        }
        let result = try await store.updateEnvironmentSettings(
            tenant: tenant, name: name, from: environment.settings, to: settings,
            workspaces: resolved, at: clock.now())
        return result.environment
    }

    @Sendable func deleteEnvironment(_ request: Request, context: Context) async throws -> Response {
        let (tenant, name) = (try pathName("tenant", context), try pathName("environment", context))
        if let managed = try await deprovisionIfManaged(request, tenant: tenant, name: name) { return managed }
        // The observability stack is the environment's own, not a workspace someone must delete first.
        if try await store.workspaceNames(tenant: tenant, environment: name) == [ObservabilityRoutes.workspace] {
            _ = try await store.deleteWorkspace(tenant: tenant, environment: name, name: ObservabilityRoutes.workspace, precondition: .any)
        }
        // The store's change wakes the environment's long polls; their next request is refused because it no longer exists.
        _ = try await store.deleteEnvironment(tenant: tenant, name: name, at: clock.now())
        return Response(status: .noContent)
    }

    // MARK: Workspaces

    @Sendable func applyWorkspace(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment, name) = (
            try pathName("tenant", context), try pathName("environment", context),
            try pathName("workspace", context)
        )
        try Self.refuseReserved(name)
        let precondition = try EntityTags.workspacePrecondition(request)
        let body = try await JSONBodies.decode(WorkspaceApply.self, from: request, limit: bodyLimit)
        try body.validate(tenant: tenant, environment: environment, name: name)
        // Resolved before anything is written: a component that does not resolve leaves the stored workspace as it was.
        let settings = try await requireEnvironment(tenant, environment).settings
        let components = try await resolver.resolve(body.spec, for: settings)
        let result = try await store.applyWorkspace(
            tenant: tenant, environment: environment, name: name, spec: body.spec,
            components: components, resolvedFor: settings, precondition: precondition, at: clock.now())
        return try JSONBodies.response(
            result.workspace, status: result.created ? .created : .ok,
            headers: EntityTags.header(EntityTags.workspace(result.workspace)))
    }

    @Sendable func listWorkspaces(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = (try pathName("tenant", context), try pathName("environment", context))
        let page = try ListPage(request)
        let prefix = try ListFilter.namePrefix(request)
        let ready = try ListFilter.bool(request, "ready")
        let workspaces = try await store.workspaces(tenant: tenant, environment: environment).filter { workspace in
            (prefix.map(workspace.name.hasPrefix) ?? true)
                && (ready.map { $0 == (workspace.status?.conditions[type: "Ready"]?.status == .true) } ?? true)
        }
        return try JSONBodies.response(page.page(workspaces, key: \.name))
    }

    @Sendable func getWorkspace(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment, name) = (
            try pathName("tenant", context), try pathName("environment", context),
            try pathName("workspace", context)
        )
        guard let workspace = try await store.workspace(tenant: tenant, environment: environment, name: name) else {
            throw APIProblem(.notFound, "workspace \"\(name)\" not found in \(tenant)/\(environment)")
        }
        return try JSONBodies.response(workspace, headers: EntityTags.header(EntityTags.workspace(workspace)))
    }

    @Sendable func deleteWorkspace(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment, name) = (
            try pathName("tenant", context), try pathName("environment", context),
            try pathName("workspace", context)
        )
        try Self.refuseReserved(name)
        _ = try await store.deleteWorkspace(
            tenant: tenant, environment: environment, name: name,
            precondition: try EntityTags.workspacePrecondition(request))
        return Response(status: .noContent)
    }

    // MARK: Alerts

    @Sendable func listAlerts(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let allowed = ["tenant", "environment", "state", "limit", "cursor"]
        for (key, _) in query where !allowed.contains(String(key)) {
            throw APIProblem(.badRequest, "unknown query parameter \"\(key)\"; allowed: \(allowed.joined(separator: ", "))")
        }
        var filter = AlertFilter()
        if let tenant = query["tenant"].map(String.init) {
            try ResourceName.validate(tenant, field: "tenant")
            filter.tenant = tenant
        }
        if let environment = query["environment"].map(String.init) {
            try ResourceName.validate(environment, field: "environment")
            filter.environment = environment
        }
        if let state = query["state"].map(String.init) {
            guard let parsed = AlertState(rawValue: state) else {
                throw APIProblem(.badRequest, "state: \"\(state)\" is not one of firing, resolved")
            }
            filter.state = parsed
        }
        if let visible = context.principal?.visibleTenant {
            // Another tenant's alerts do not exist for a tenant-scoped token.
            if let asked = filter.tenant, asked != visible { return try JSONBodies.response(ListResponse<StoredAlert>(items: [])) }
            filter.tenant = visible
        }
        let page = try ListPage(request)
        return try JSONBodies.response(page.page(try await store.alerts(filter)) { "\($0.tenant)/\($0.environment)/\($0.workspace)/\($0.fingerprint)" })
    }

    /// The observability stack's workspace is written only through the environment's `observability`.
    static func refuseReserved(_ workspace: String) throws {
        guard workspace == ObservabilityRoutes.workspace else { return }
        throw APIProblem(
            .badRequest,
            "workspace name \"\(workspace)\" is reserved for the environment's observability stack; PATCH the environment's `observability` instead"
        )
    }

    func requireEnvironment(_ tenant: String, _ name: String) async throws -> SplitPlaneProtocol.Environment {
        if let environment = try await store.environment(tenant: tenant, name: name) { return environment }
        if try await store.tenant(tenant) == nil { throw APIProblem(.notFound, "tenant \"\(tenant)\" not found") }
        throw APIProblem(.notFound, "environment \"\(name)\" not found in tenant \"\(tenant)\"")
    }

    func pathName(_ parameter: String, _ context: Context) throws -> String {
        let value = context.parameters.get(parameter) ?? ""
        try ResourceName.validate(value, field: parameter)
        return value
    }
}

/// Body of `PUT …/workspaces/{name}`: the spec, optionally with the identifying fields a `qbctl apply`
/// file carries (which must then match the path).
struct WorkspaceApply: Codable {
    var apiVersion: String?
    var kind: String?
    var tenant: String?
    var environment: String?
    var name: String?
    var spec: WorkspaceSpec

    func validate(tenant pathTenant: String, environment pathEnvironment: String, name pathName: String) throws {
        if let apiVersion, apiVersion != APIVersion.operatorV1 {
            throw ValidationError(field: "apiVersion", reason: "expected \"\(APIVersion.operatorV1)\", got \"\(apiVersion)\"")
        }
        if let kind, kind != "Workspace" { throw ValidationError(field: "kind", reason: "expected \"Workspace\", got \"\(kind)\"") }
        for (field, value, expected) in [("tenant", tenant, pathTenant), ("environment", environment, pathEnvironment), ("name", name, pathName)] {
            if let value, value != expected {
                throw ValidationError(field: field, reason: "\"\(value)\" does not match the URL's \"\(expected)\"")
            }
        }
        try spec.validate()
        try RuleTemplateValidation.validate(spec)
    }
}
