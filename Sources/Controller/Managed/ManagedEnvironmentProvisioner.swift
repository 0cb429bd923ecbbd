import ControllerModel
import Foundation
import KubernetesAPI
import Logging
import SQLStorage
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol
import Synchronization

/// Drives every managed environment through Crossplane: applies its `QbeastEnvironment` XR once cloud
/// access is recorded, follows the composed resources until they are ready (recording the `Provisioned`
/// condition and each resource's state on the environment), hands over to the agent with a one-time
/// enrollment token in a Secret, and on a confirmed delete removes the XR and waits for the teardown.
///
/// One per process. With PostgreSQL replicas several may look at the same environment; every step is
/// idempotent (server-side apply of the same fields by the same field manager, delete of what exists,
/// deleting the environment row once), so running twice changes nothing twice. The one thing two
/// replicas can both do is mint a hand-over token: the Secret holds the last one written and the other,
/// unused, expires in `tokenLifetime` (a token is single-use and names this environment only).
public final class ManagedEnvironmentProvisioner: Service, Sendable {
    let store: any ManagedEnvironmentStore & FleetStore & IdentityStore & AuditStore
    let client: KubernetesClient
    let reader: CrossplaneReader
    let settings: CrossplaneSettings
    let onboarding: OnboardingSettings
    let clock: any TimeSource
    let logger: Logger
    let wake = WakeSignal()
    /// Consecutive failures to reach Crossplane, for the backoff.
    private let failures = Mutex(0)
    /// One pass at a time (the loop's, and a test's or a poke's in between).
    private let passes = AsyncLock()

    public init(
        store: any ManagedEnvironmentStore & FleetStore & IdentityStore & AuditStore, settings: CrossplaneSettings,
        onboarding: OnboardingSettings, clock: any TimeSource, logger: Logger
    ) throws {
        self.store = store
        self.settings = settings
        self.onboarding = onboarding
        self.clock = clock
        self.logger = logger
        client = try KubernetesClient(connection: settings.connection)
        reader = CrossplaneReader(client: client, discovery: APIDiscovery(client: client))
    }

    /// Look again now (cloud access recorded, a delete confirmed) instead of at the next resync.
    public func poke() { wake.signal() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let reachable = await self.reconcileAll()
                await self.wake.wait(upTo: self.nextWait(afterSuccess: reachable), clock: self.clock)
            }
        }
        try? await client.shutdown()
    }

    /// The resync interval, or after failures to reach Crossplane the backoff.
    func nextWait(afterSuccess reachable: Bool) -> Duration {
        let count = failures.withLock { count in
            count = reachable ? 0 : count + 1
            return count
        }
        return Self.wait(afterFailures: count, resync: settings.resync, maxBackoff: settings.maxBackoff)
    }

    /// After `failures` consecutive failures: from `resync / 8`, doubling, up to `maxBackoff`; none: `resync`.
    static func wait(afterFailures failures: Int, resync: Duration, maxBackoff: Duration) -> Duration {
        guard failures > 0 else { return resync }
        let seconds = min(resync.timeInterval / 8 * pow(2, Double(min(failures - 1, 16))), maxBackoff.timeInterval)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// One pass over every managed environment; false when Crossplane could not be reached for one of them.
    @discardableResult
    public func reconcileAll() async -> Bool {
        (try? await passes.withLock { await self.pass() }) ?? true
    }

    private func pass() async -> Bool {
        let environments: [SplitPlaneProtocol.Environment]
        do {
            environments = try await store.managedEnvironments()
        } catch {
            logger.warning("cannot list managed environments", metadata: ["error": "\(error)"])
            return true
        }
        var reachable = true
        for environment in environments {
            do {
                try await reconcile(environment)
            } catch {
                if Task.isCancelled { return true }  // shutting down, not an outage
                reachable = false
                await record(environment, unreachable: error)
            }
        }
        return reachable
    }

    func reconcile(_ environment: SplitPlaneProtocol.Environment) async throws {
        var provisioning = environment.provisioning ?? Provisioning()
        if provisioning.deprovisionRequestedAt != nil {
            try await deprovision(environment, provisioning)
            return
        }
        guard let access = environment.cloudAccess else {
            provisioning.conditions.set(
                condition(
                    .false, "CloudAccessMissing",
                    "no cloud access recorded: deploy the onboarding template (qbctl env onboarding \(environment.tenant) \(environment.name) \(environment.cloud.rawValue)) and record its outputs (qbctl env set-cloud-access); nothing is provisioned until then"
                ))
            try await save(environment, provisioning)
            return
        }
        let namespace = settings.namespace(tenant: environment.tenant)
        let existing = try await reader.xr(namespace: namespace, name: environment.name)
        if existing == nil, provisioning.appliedAt != nil {
            logger.warning("the XR of a managed environment is gone; applying it again", metadata: target(environment))
            await audit(environment, "reapply", detail: "the QbeastEnvironment XR was deleted outside the controller; applied again")
        }
        try await apply(environment, access, handedOver: provisioning.handedOverAt != nil)
        if provisioning.appliedAt == nil {
            provisioning.appliedAt = clock.now()
            await audit(
                environment, "provision", detail: "applied QbeastEnvironment \(namespace)/\(environment.name) (\(environment.cloud.rawValue), \(access.region))"
            )
        }
        let xr = try await reader.xr(namespace: namespace, name: environment.name) ?? [:]
        provisioning.resources = try await reader.composed(of: xr, namespace: namespace)
        let refs = xr["spec"]?["crossplane"]?["resourceRefs"]?.arrayValue?.count ?? 0
        if let blocked = CrossplaneReader.blocking(provisioning.resources) {
            let ready = provisioning.resources.filter(\.isReady).count
            let cause = [blocked.reason, blocked.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            provisioning.conditions.set(
                condition(
                    .false, blocked.synced == "False" ? "ResourceFailing" : "ResourceNotReady",
                    "\(blocked.label): \(cause.isEmpty ? "not ready yet" : cause) (\(ready) of \(refs) composed resources ready)"))
        } else if refs == 0 {
            provisioning.conditions.set(condition(.false, "Composing", "waiting for Crossplane to compose the environment's resources"))
        } else if provisioning.handedOverAt == nil {
            try await handOver(environment, &provisioning, access)
        } else {
            try await renewTokenIfExpired(environment, &provisioning)
            let xrReady = xr["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue == "True"
            if xrReady {
                provisioning.conditions.set(condition(.true, "Ready", "all \(refs) composed resources are ready and the agent is installed"))
            } else {
                provisioning.conditions.set(
                    condition(.false, "HandingOver", "cloud resources ready; Crossplane is installing the agent chart in the new cluster"))
            }
        }
        try await save(environment, provisioning)
    }

    private func apply(_ environment: SplitPlaneProtocol.Environment, _ access: CloudAccess, handedOver: Bool) async throws {
        let namespace = settings.namespace(tenant: environment.tenant)
        _ = try await client.apply(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]], at: "/api/v1/namespaces/\(namespace)",
            fieldManager: EnvironmentXR.fieldManager, force: true)
        let xr = EnvironmentXR.build(
            environment, access: access, namespace: namespace, agent: settings.agent, onboarding: onboarding, handedOver: handedOver)
        _ = try await client.apply(
            xr, at: EnvironmentXR.path(namespace: namespace, name: environment.name), fieldManager: EnvironmentXR.fieldManager, force: true)
    }

    /// Every composed resource is ready: mint the token, put it in the Secret, switch the XR's hand-over on.
    private func handOver(_ environment: SplitPlaneProtocol.Environment, _ provisioning: inout Provisioning, _ access: CloudAccess) async throws {
        try await writeToken(environment, &provisioning)
        try await apply(environment, access, handedOver: true)
        provisioning.handedOverAt = clock.now()
        provisioning.conditions.set(
            condition(.false, "HandingOver", "cloud resources ready; enrollment token written, Crossplane is installing the agent chart"))
        await audit(
            environment, "handover",
            detail: "enrollment token written to Secret \(EnvironmentXR.tokenSecretName(environment: environment.name)); agent hand-over enabled")
    }

    /// The agent has not enrolled and the token expired unused: a fresh one, in the same Secret.
    private func renewTokenIfExpired(_ environment: SplitPlaneProtocol.Environment, _ provisioning: inout Provisioning) async throws {
        guard let expiry = provisioning.tokenExpiresAt, expiry <= clock.now() else { return }
        guard try await store.certificates(tenant: environment.tenant, environment: environment.name).isEmpty, environment.agentLastSeen == nil
        else {
            provisioning.tokenExpiresAt = nil
            return
        }
        try await writeToken(environment, &provisioning)
        await audit(environment, "handover-token-renewed", detail: "the hand-over token expired unused; a fresh one was written")
    }

    private func writeToken(_ environment: SplitPlaneProtocol.Environment, _ provisioning: inout Provisioning) async throws {
        let now = clock.now()
        let token = EnrollmentTokens.make()
        let expiresAt = now.addingTimeInterval(settings.tokenLifetime)
        try await store.createEnrollmentToken(
            tenant: environment.tenant, environment: environment.name, tokenHash: EnrollmentTokens.hash(token), expiresAt: expiresAt, at: now)
        let namespace = settings.namespace(tenant: environment.tenant)
        let name = EnvironmentXR.tokenSecretName(environment: environment.name)
        let secret: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": ["platform.qbeast.io/tenant": .string(environment.tenant), "platform.qbeast.io/environment": .string(environment.name)],
            ],
            "data": ["token": .string(Data(token.utf8).base64EncodedString())],
        ]
        _ = try await client.apply(secret, at: "/api/v1/namespaces/\(namespace)/secrets/\(name)", fieldManager: EnvironmentXR.fieldManager, force: true)
        provisioning.tokenExpiresAt = expiresAt
    }

    /// Deletes the XR (Crossplane deletes the cloud resources, foreground), names what is still there,
    /// and once the XR is gone removes the token Secret and the environment itself.
    private func deprovision(_ environment: SplitPlaneProtocol.Environment, _ provisioning: Provisioning) async throws {
        var provisioning = provisioning
        let namespace = settings.namespace(tenant: environment.tenant)
        guard let xr = try await reader.xr(namespace: namespace, name: environment.name) else {
            let secret = EnvironmentXR.tokenSecretName(environment: environment.name)
            do {
                try await client.delete("/api/v1/namespaces/\(namespace)/secrets/\(secret)", uid: nil)
            } catch let error as KubernetesAPIError where error.isNotFound {}
            do {
                _ = try await store.deleteEnvironment(tenant: environment.tenant, name: environment.name, at: clock.now())
            } catch StoreError.notFound {
                return  // another replica finished first
            }
            await audit(environment, "deprovisioned", detail: "Crossplane reports every composed resource gone; environment removed")
            return
        }
        if xr["metadata"]?["deletionTimestamp"] == nil {
            try await client.send(
                .DELETE, EnvironmentXR.path(namespace: namespace, name: environment.name),
                body: try JSONEncoder().encode(["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"] as JSONValue),
                contentType: "application/json")
            await audit(environment, "deprovision", detail: "deleted QbeastEnvironment \(namespace)/\(environment.name)")
        }
        provisioning.resources = try await reader.composed(of: xr, namespace: namespace)
        let remaining = provisioning.resources.map { state in
            [state.label, state.reason, state.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        }
        provisioning.conditions.set(
            condition(
                .true, "Deleting",
                remaining.isEmpty
                    ? "waiting for Crossplane to remove the XR"
                    : "waiting for \(remaining.count) composed resource(s) to be deleted: \(remaining.joined(separator: "; "))",
                type: Provisioning.deprovisioningCondition))
        try await save(environment, provisioning)
    }

    private func record(_ environment: SplitPlaneProtocol.Environment, unreachable error: any Error) async {
        logger.warning("cannot reach the Crossplane cluster", metadata: target(environment).merging(["error": "\(error)"]) { $1 })
        var provisioning = environment.provisioning ?? Provisioning()
        let type = provisioning.deprovisionRequestedAt == nil ? Provisioning.provisionedCondition : Provisioning.deprovisioningCondition
        provisioning.conditions.set(
            condition(.unknown, "CrossplaneUnreachable", "cannot reach the Crossplane cluster (retrying with backoff): \(error)", type: type))
        try? await save(environment, provisioning)
    }

    private func condition(
        _ status: Condition.Status, _ reason: String, _ message: String, type: String = Provisioning.provisionedCondition
    ) -> Condition {
        Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: clock.now())
    }

    private func save(_ environment: SplitPlaneProtocol.Environment, _ provisioning: Provisioning) async throws {
        guard provisioning != environment.provisioning else { return }
        try await store.recordProvisioning(tenant: environment.tenant, name: environment.name, provisioning)
    }

    private func audit(_ environment: SplitPlaneProtocol.Environment, _ action: String, detail: String) async {
        let entry = AuditEntry(
            at: clock.now(), actor: "controller/provisioner", action: action,
            target: "/v1/tenants/\(environment.tenant)/environments/\(environment.name)", result: "ok", detail: detail)
        do {
            try await store.audit(entry)
        } catch {
            logger.error("cannot write the audit record", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    private func target(_ environment: SplitPlaneProtocol.Environment) -> Logger.Metadata {
        ["tenant": "\(environment.tenant)", "environment": "\(environment.name)"]
    }
}
