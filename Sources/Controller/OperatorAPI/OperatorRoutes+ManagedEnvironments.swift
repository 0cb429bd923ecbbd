import ControllerModel
import Foundation
import Hummingbird
import SplitPlaneProtocol

/// Managed environments in the operator API: recording the customer's cloud access, and deleting with
/// an explicit confirmation (the delete tears down cloud resources in the customer's account).
extension OperatorRoutes {
    /// `PUT …/environments/{e}/cloud-access`: the onboarding template's outputs, validated for the
    /// environment's cloud. The provisioner picks it up on its next pass.
    @Sendable func setCloudAccess(_ request: Request, context: Context) async throws -> Response {
        let (tenant, name) = (try pathName("tenant", context), try pathName("environment", context))
        let body = try await JSONBodies.decode(CloudAccess.self, from: request, limit: bodyLimit)
        let environment = try await requireEnvironment(tenant, name)
        guard environment.mode == .managed else {
            throw APIProblem(.conflict, "environment \"\(name)\" is provided: cloud access is recorded only for a managed environment")
        }
        try body.validate(for: environment.cloud)
        let updated = try await store.setCloudAccess(tenant: tenant, name: name, body)
        wakeProvisioner()
        return try JSONBodies.response(agentVersions.decorate(updated), headers: EntityTags.header(EntityTags.environment(updated)))
    }

    /// A managed environment is deleted only with `?confirm=true`: the answer is `202` and the environment
    /// stays (condition `Deprovisioning`) until Crossplane reports every cloud resource gone. Nil when
    /// there is nothing to tear down (a provided environment, or a managed one never applied), which is
    /// then deleted as before.
    func deprovisionIfManaged(_ request: Request, tenant: String, name: String) async throws -> Response? {
        let environment = try await requireEnvironment(tenant, name)
        guard environment.mode == .managed else { return nil }
        let confirm = request.uri.queryParameters["confirm"].map(String.init)
        guard confirm == "true" else {
            throw ValidationError(
                field: "confirm",
                reason:
                    "environment \"\(name)\" is managed: deleting it deletes its cluster, network and (per its deletion policy) bucket in the customer's cloud account; repeat with ?confirm=true (qbctl: --confirm-deprovision)"
            )
        }
        // The cluster goes with the XR: workspaces first, so the agent removes what it installed (load
        // balancers and volumes it created would otherwise block the network's deletion).
        let workspaces = try await store.workspaceNames(tenant: tenant, environment: name)
        if !workspaces.isEmpty {
            throw APIProblem(.conflict, "environment \"\(name)\" still has \(workspaces.count) workspace(s); delete them first")
        }
        // Nothing was ever applied (no Crossplane configured, or no cloud access yet): nothing to tear down.
        let applied = environment.provisioning?.appliedAt != nil || environment.provisioning?.deprovisionRequestedAt != nil
        if !applied && (!provisions || environment.cloudAccess == nil) { return nil }
        let marked = try await store.requestDeprovision(tenant: tenant, name: name, at: clock.now())
        wakeProvisioner()
        return try JSONBodies.response(agentVersions.decorate(marked), status: .accepted)
    }
}
