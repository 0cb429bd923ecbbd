import Foundation
import SplitPlaneProtocol

/// What the store keeps of managed environments beyond the environment itself: the customer's cloud
/// access and what the provisioner last saw of the environment's Crossplane XR.
public protocol ManagedEnvironmentStore: Sendable {
    /// Records the cloud access of a managed environment; `StoreError.conflict` for a provided one.
    func setCloudAccess(tenant: String, name: String, _ access: CloudAccess) async throws -> Environment
    /// Every managed environment of every tenant.
    func managedEnvironments() async throws -> [Environment]
    /// Replaces what the provisioner saw; a deprovisioning request already recorded is kept (a delete
    /// that raced the provisioner's write is not lost). An environment that no longer exists is passed over.
    func recordProvisioning(tenant: String, name: String, _ provisioning: Provisioning) async throws
    /// Marks a managed environment for teardown (idempotent: the first request's time stays).
    func requestDeprovision(tenant: String, name: String, at now: Date) async throws -> Environment
}
