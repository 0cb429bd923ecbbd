import ControllerModel
import Foundation
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// The environment's observability stack and Qbeast's requests for support access. The stack travels
/// as the reserved workspace `qbeast-observability`, which only this code writes: it is installed,
/// reported, pruned and uninstalled by the agent like any workspace. A request for access grants
/// nothing: it is shown to the customer, who alone grants access on the agent's side.
struct ObservabilityRoutes {
    typealias Context = OperatorRequestContext
    static let workspace = EnvironmentRequest.observabilityWorkspace
    static let component = "observability"

    let store: (any FleetStore & AuditStore)
    let resolver: ComponentResolver
    let clock: any TimeSource

    func register(on group: RouterGroup<Context>) {
        group.post("tenants/:tenant/environments/:environment/support-access-request", use: requestAccess)
        group.delete("tenants/:tenant/environments/:environment/support-access-request", use: withdrawRequest)
    }

    /// The stack as stored (nil when it is off).
    func current(tenant: String, environment: String) async throws -> ObservabilityStackSource? {
        try await store.workspace(tenant: tenant, environment: environment, name: Self.workspace)?
            .spec.components.first(where: { $0.name == Self.component })?.observability
    }

    /// `observability` and `supportAccessRequest` filled in on one environment's answer.
    func decorate(_ environment: SplitPlaneProtocol.Environment) async throws -> SplitPlaneProtocol.Environment {
        var environment = environment
        let source = try await current(tenant: environment.tenant, environment: environment.name)
        environment.observability = source?.spec
        environment.supportAccessRequest = source?.supportAccessRequest
        return environment
    }

    /// Writes the stack (nil: removes it) for the environment's current settings.
    func store(_ source: ObservabilityStackSource?, tenant: String, environment: SplitPlaneProtocol.Environment) async throws {
        guard let source else {
            if try await store.workspace(tenant: tenant, environment: environment.name, name: Self.workspace) != nil {
                _ = try await store.deleteWorkspace(tenant: tenant, environment: environment.name, name: Self.workspace, precondition: .any)
            }
            return
        }
        let spec = WorkspaceSpec(components: [ComponentSpec(name: Self.component, observability: source)])
        let components = try await resolver.resolve(spec, for: environment.settings)
        _ = try await store.applyWorkspace(
            tenant: tenant, environment: environment.name, name: Self.workspace, spec: spec, components: components,
            resolvedFor: environment.settings, precondition: .any, at: clock.now())
    }

    /// `POST …/support-access-request` `{"reason": "…"}`: asks the customer for access. Needs the stack.
    @Sendable func requestAccess(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        let body = try await JSONBodies.decode(SupportAccessRequestBody.self, from: request, limit: 4096)
        do throws(ValidationError) {
            try body.validate()
        } catch {
            throw APIProblem(.badRequest, error.description)
        }
        let current = try await requireStack(tenant, environment)
        let asked = SupportAccessRequest(reason: body.reason, requestedBy: context.actor ?? "anonymous", requestedAt: clock.now())
        try await store(
            ObservabilityStackSource(spec: current.source.spec, supportAccessRequest: asked), tenant: tenant, environment: current.environment)
        await audit("support-access-requested", tenant, environment, context, detail: "reason=\(body.reason)")
        return try JSONBodies.response(try await decorate(current.environment), status: .accepted)
    }

    /// `DELETE …/support-access-request`: withdraws the request (a grant stays the customer's to end).
    @Sendable func withdrawRequest(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        let current = try await requireStack(tenant, environment)
        guard current.source.supportAccessRequest != nil else {
            throw APIProblem(.notFound, "\(tenant)/\(environment) has no open support access request")
        }
        try await store(ObservabilityStackSource(spec: current.source.spec), tenant: tenant, environment: current.environment)
        await audit("support-access-request-withdrawn", tenant, environment, context, detail: nil)
        return Response(status: .noContent)
    }

    private func requireStack(
        _ tenant: String, _ name: String
    ) async throws -> (environment: SplitPlaneProtocol.Environment, source: ObservabilityStackSource) {
        guard let environment = try await store.environment(tenant: tenant, name: name) else {
            throw APIProblem(.notFound, "environment \"\(name)\" not found in tenant \"\(tenant)\"")
        }
        guard let source = try await current(tenant: tenant, environment: name) else {
            throw APIProblem(
                .conflict,
                "\(tenant)/\(name) has no observability stack; support reaches an environment only through it (PATCH the environment with {\"observability\": {\"enabled\": true}})"
            )
        }
        return (environment, source)
    }

    private func names(_ context: Context) throws -> (String, String) {
        var names: [String] = []
        for parameter in ["tenant", "environment"] {
            let value = context.parameters.get(parameter) ?? ""
            do throws(ValidationError) {
                try ResourceName.validate(value, field: parameter)
            } catch {
                throw APIProblem(.badRequest, error.description)
            }
            names.append(value)
        }
        return (names[0], names[1])
    }

    private func audit(_ action: String, _ tenant: String, _ environment: String, _ context: Context, detail: String?) async {
        do {
            try await store.audit(
                AuditEntry(
                    at: clock.now(), actor: context.actor ?? "anonymous", action: action, target: "\(tenant)/\(environment)",
                    result: "recorded", address: context.address, detail: detail))
        } catch {
            context.logger.error("cannot write the audit record", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }
}
