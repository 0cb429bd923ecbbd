import Foundation
import KubernetesAPI
import Logging
import Metrics
import ServiceSupport
import SplitPlaneProtocol

/// Settings of the install loop.
public struct InstallSettings: Sendable {
    /// Every applied component is applied again this often, restoring fields changed out of band.
    public var driftInterval: Duration = .seconds(300)
    /// Backoff of a failing object (and of a component that cannot be fetched).
    public var retry = RetryPolicy(initial: .seconds(5), maximum: .seconds(300))
    /// How long the agent's own RBAC rules (SelfSubjectRulesReview) are reused.
    public var rulesTTL: Duration = .seconds(300)

    public init() {}
}

/// Makes the cluster match the desired workspaces, one pass at a time: fetch changed components,
/// check confinement, server-side apply, prune what a spec dropped, judge health. Components are
/// independent: a broken one is reported and retried with backoff while the others go on.
public actor ComponentInstaller {
    let client: KubernetesClient
    let discovery: APIDiscovery
    let cache: ComponentCache
    let inventory: InstallInventoryStore
    let clock: any TimeSource
    let logger: Logger
    let settings: InstallSettings
    var namespace: String { client.connection.namespace }

    /// In-memory progress per workspace and component; the inventory on disk holds what must survive a restart.
    var progress: [String: [String: ComponentProgress]] = [:]
    private var agentRules: (rules: [PolicyRule]?, readAt: Date)?
    /// Objects found in the namespace this pass, per collection path and name (their labels): one
    /// list per kind instead of one read per object when checking that nothing foreign is taken over.
    private var existing: [String: [String: JSONValue]] = [:]
    /// The workspace's own objects per collection, listed once per pass for the health read-back.
    private var live: [String: [String: JSONValue]] = [:]
    /// Conditions last reported per workspace and component, so transition times survive between reports.
    var reported: [String: [String: [Condition]]] = [:]
    /// Told of the moments the customer's operators care about (a component applied, a workspace pruned).
    var notify: (@Sendable (InstallerEvent) async -> Void)?

    public func onEvent(_ notify: @escaping @Sendable (InstallerEvent) async -> Void) {
        self.notify = notify
    }
    /// The customer's support-access switch (the agent's own configuration; never from the controller).
    let supportAccess: SupportAccessGrant
    /// What the last pass verified and announced of support access.
    var supportAccessSeen = SupportAccessObservation()

    public init(
        client: KubernetesClient, source: any ComponentSource, stateDirectory: URL, settings: InstallSettings = InstallSettings(),
        supportAccess: SupportAccessGrant = .off, clock: any TimeSource, logger: Logger
    ) throws {
        self.supportAccess = supportAccess
        self.client = client
        discovery = APIDiscovery(client: client)
        cache = try ComponentCache(directory: stateDirectory.appendingPathComponent("components"), source: source)
        inventory = try InstallInventoryStore(directory: stateDirectory.appendingPathComponent("install"))
        self.clock = clock
        self.logger = logger
        self.settings = settings
    }

    /// One reconcile pass over every desired workspace; workspaces no longer desired are uninstalled.
    public func reconcile(_ workspaces: [DesiredWorkspace]) async {
        existing = [:]
        live = [:]
        defer {
            existing = [:]
            live = [:]
        }
        for workspace in workspaces {
            var record = inventory.load(workspace.name)
            for (name, component) in record.components where !workspace.components.contains(where: { $0.name == name }) {
                let remaining = await prune(component.objects, workspace: workspace.name, component: name)
                record.components[name] = remaining.isEmpty ? nil : ComponentRecord(appliedHash: nil, appliedAt: nil, objects: remaining)
            }
            progress[workspace.name] = progress[workspace.name]?.filter { name, _ in workspace.components.contains { $0.name == name } }
            for ref in workspace.components {
                await reconcile(ref, workspace: workspace.name, record: &record)
            }
            save(record, workspace.name)
        }
        let desired = Set(workspaces.map(\.name))
        for name in Set(inventory.workspaces()).union(progress.keys) where !desired.contains(name) {
            await uninstall(name)
        }
        cache.keepOnly(Set(workspaces.flatMap { $0.components.map(\.hash) }))
        await enforceSupportAccess()
    }

    /// When a pass is next needed even if the desired state does not change: a retry or drift check due.
    public func nextDue() -> Date? {
        var due: [Date] = supportAccess.nextChange(after: clock.now()).map { [$0] } ?? []
        for components in progress.values {
            for component in components.values {
                due += component.retryAt.map { [$0] } ?? []
                due += component.objects.values.compactMap(\.retryAt)
            }
        }
        for workspace in inventory.workspaces() {
            for component in inventory.load(workspace).components.values {
                if let appliedAt = component.appliedAt { due.append(appliedAt.addingTimeInterval(settings.driftInterval.timeInterval)) }
            }
        }
        return due.min()
    }

    // MARK: One component

    private func reconcile(_ ref: ComponentRef, workspace: String, record: inout WorkspaceInventory) async {
        let now = clock.now()
        var state = progress[workspace]?[ref.name] ?? ComponentProgress(ref: ref)
        if state.ref.hash != ref.hash { state = ComponentProgress(ref: ref) }
        defer { progress[workspace, default: [:]][ref.name] = state }
        var stored = record.components[ref.name] ?? ComponentRecord()
        defer { record.components[ref.name] = stored }

        // The customer's grant opened or ended since the plan was made: plan again and apply in full,
        // so the support proxy is added, or pruned, now.
        let open = supportAccess.isOpen(at: now)
        if let plan = state.plan, plan.supportAccessOpen != open {
            state = ComponentProgress(ref: ref)
            stored.appliedHash = nil
        }
        if let retryAt = state.retryAt, retryAt > now { return }
        if state.plan?.isApplicable != true {
            do {
                let component = try await cache.component(ref)
                state.plan = try await InstallPlan.make(
                    component, discovery: discovery, confinement: await confinement(for: component),
                    workspace: workspace, supportAccessOpen: open)
                state.fetchError = nil
                state.retryAt = nil
            } catch {
                state.fetchError = "cannot prepare component \"\(ref.name)\": \(error)"
                state.retryAt = now.addingTimeInterval(settings.retry.delay(attempt: state.failures).timeInterval)
                state.failures += 1
                logger.warning("component not prepared", metadata: ["workspace": "\(workspace)", "component": "\(ref.name)", "error": "\(error)"])
                return
            }
        }
        guard let plan = state.plan else { return }
        guard plan.isApplicable else {
            // Nothing of a refused component is applied. Unserved kinds (a CRD not yet installed) are
            // retried with backoff; refusals are looked at again on the drift interval, in case the
            // agent's rights changed.
            state.retryAt = now.addingTimeInterval(
                plan.refusals.isEmpty
                    ? settings.retry.delay(attempt: state.failures).timeInterval : settings.driftInterval.timeInterval)
            state.failures += 1
            return
        }
        state.failures = 0

        let applied = stored.appliedHash == ref.hash
        let driftDue = applied && (stored.appliedAt.map { now >= $0.addingTimeInterval(settings.driftInterval.timeInterval) } ?? true)
        var toApply: [InstallPlan.Item]
        if !applied && state.attempted != ref.hash || driftDue {
            toApply = plan.items
        } else {
            toApply = plan.items.filter { state.objects[$0.key]?.retryAt.map { $0 <= now } ?? false }
            let drifted = await refreshHealth(plan, state: &state, skipping: Set(toApply.map(\.key)))
            if !drifted.isEmpty {
                logger.info(
                    "objects deleted or changed out of band; restoring",
                    metadata: ["workspace": "\(workspace)", "objects": "\(drifted.map(\.description))"])
                toApply = plan.items
            }
        }
        guard !toApply.isEmpty else { return }

        // Recorded before applying, so that whatever this pass creates can always be pruned later.
        stored.objects.formUnion(plan.keys)
        record.components[ref.name] = stored
        save(record, workspace)
        state.attempted = ref.hash
        for item in toApply {
            state.objects[item.key] = await apply(item, workspace: workspace, component: ref.name, previous: state.objects[item.key], now: now)
        }
        let failed = plan.items.filter { state.objects[$0.key]?.isApplied != true }
        guard failed.isEmpty else { return }
        let dropped = stored.objects.subtracting(plan.keys)
        let remaining = await prune(dropped, workspace: workspace, component: ref.name)
        stored = ComponentRecord(appliedHash: ref.hash, appliedAt: now, objects: plan.keys.union(remaining))
        if !applied {
            await notify?(
                InstallerEvent(
                    reason: "ComponentApplied", action: "Install",
                    note: "workspace \(workspace): component \(ref.name) applied (\(plan.items.count) objects)"))
            logger.info(
                "component applied",
                metadata: [
                    "workspace": "\(workspace)", "component": "\(ref.name)", "hash": "\(ref.hash)",
                    "objects": "\(plan.items.count)", "pruned": "\(dropped.count - remaining.count)",
                ])
        }
    }

    private func apply(
        _ item: InstallPlan.Item, workspace: String, component: String, previous: ObjectProgress?,
        now: Date
    ) async -> ObjectProgress {
        let path = item.resource.path(namespace: namespace, name: item.key.name)
        do {
            if previous?.isApplied != true {
                // First apply of the object by this process: never take over one the agent did not create.
                if let refusal = try await adoptionRefusal(item, workspace: workspace) {
                    return ObjectProgress(state: .refused, message: refusal)
                }
            }
            let live = try await client.apply(item.object, at: path, fieldManager: OwnershipLabels.fieldManager, force: true)
            Counter(label: "qbeast_agent_kubernetes_applies_total", dimensions: [("result", "applied")]).increment()
            let verdict = ObjectHealth.judge(live)
            return ObjectProgress(
                state: .init(verdict.state), message: verdict.message, isApplied: true,
                generation: live["metadata"]?["generation"]?.intValue)
        } catch {
            let attempts = (previous?.attempts ?? 0) + 1
            Counter(label: "qbeast_agent_kubernetes_applies_total", dimensions: [("result", "failed")]).increment()
            let message = (error as? KubernetesAPIError)?.message ?? "\(error)"
            logger.warning(
                "apply failed",
                metadata: [
                    "workspace": "\(workspace)", "component": "\(component)", "object": "\(item.key)",
                    "error": "\(error)", "attempt": "\(attempts)",
                ])
            return ObjectProgress(
                state: .failed, message: message, isApplied: false, attempts: attempts,
                retryAt: now.addingTimeInterval(settings.retry.delay(attempt: attempts - 1).timeInterval))
        }
    }

    private func adoptionRefusal(_ item: InstallPlan.Item, workspace: String) async throws -> String? {
        let key = item.key
        let collection = item.resource.path(namespace: namespace, name: nil)
        if existing[collection] == nil {
            existing[collection] = KubernetesClient.byName(try await client.listMetadata(collection))
        }
        guard let live = existing[collection]?[key.name] else { return nil }
        if OwnershipLabels.owned(live, workspace: workspace) { return nil }
        if let other = live["metadata"]?["labels"]?[OwnershipLabels.workspace]?.stringValue,
            live["metadata"]?["labels"]?[OwnershipLabels.managedBy]?.stringValue == OwnershipLabels.managedByValue
        {
            return "\(key) already exists and belongs to workspace \"\(other)\""
        }
        return "\(key) already exists and is not managed by qbeast-agent (no \(OwnershipLabels.managedBy)=\(OwnershipLabels.managedByValue) label); "
            + "the agent does not take over objects it did not create"
    }

    /// Reads every applied object back and judges it; returns those deleted since, or whose spec
    /// someone else changed (their generation moved past the one the agent's apply produced).
    private func refreshHealth(_ plan: InstallPlan, state: inout ComponentProgress, skipping: Set<ObjectKey>) async -> [ObjectKey] {
        var missing: [ObjectKey] = []
        for item in plan.items where !skipping.contains(item.key) && state.objects[item.key]?.isApplied != false {
            do {
                // An object missing from the list was deleted, or lost the agent's labels: either way it is applied again.
                guard let live = try await liveObjects(item.resource, workspace: plan.workspace)[item.key.name] else {
                    missing.append(item.key)
                    continue
                }
                let generation = live["metadata"]?["generation"]?.intValue
                if let applied = state.objects[item.key]?.generation, let generation, generation != applied {
                    missing.append(item.key)
                }
                var verdict = ObjectHealth.judge(live)
                if verdict.state == .ready, item.key.kind == "Service" { verdict = await serviceEndpoints(live, verdict) }
                if verdict.state != .ready, ["Deployment", "StatefulSet", "DaemonSet"].contains(item.key.kind) { verdict = await podTrouble(live, verdict) }
                state.objects[item.key] = ObjectProgress(
                    state: .init(verdict.state), message: verdict.message, isApplied: true,
                    generation: state.objects[item.key]?.generation ?? generation)
            } catch let error as KubernetesAPIError where error.isNotFound {
                missing.append(item.key)
            } catch {
                state.objects[item.key]?.message = "cannot read back: \(error)"
            }
        }
        return missing
    }

    /// The workspace's objects of one resource in the namespace, by name: one labelled list per pass
    /// instead of one read per object.
    private func liveObjects(_ resource: APIResource, workspace: String) async throws -> [String: JSONValue] {
        let collection = resource.path(namespace: namespace, name: nil)
        if let cached = live[collection] { return cached }
        let selector = "\(OwnershipLabels.managedBy)=\(OwnershipLabels.managedByValue),\(OwnershipLabels.workspace)=\(workspace)"
        let list = try await client.get(collection, query: [("labelSelector", selector)])
        let byName = KubernetesClient.byName(list["items"]?.arrayValue ?? [])
        live[collection] = byName
        return byName
    }

    /// Why a workload's pods do not come up (a container in CrashLoopBackOff or ImagePullBackOff, a pod
    /// the scheduler cannot place), added to its verdict as `kubectl get pods` would show it: the
    /// workload's own status only counts replicas. One list of the namespace's pods per pass.
    private func podTrouble(_ workload: JSONValue, _ verdict: ObjectHealth.Verdict) async -> ObjectHealth.Verdict {
        guard let selector = workload["spec"]?["selector"]?["matchLabels"]?.objectValue, !selector.isEmpty else { return verdict }
        let collection = "/api/v1/namespaces/\(namespace)/pods"
        if live[collection] == nil, let list = try? await client.get(collection) {
            live[collection] = KubernetesClient.byName(list["items"]?.arrayValue ?? [])
        }
        let troubles = (live[collection] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            .filter { pod in selector.allSatisfy { pod["metadata"]?["labels"]?[$0.key] == $0.value } }
            .compactMap(ObjectHealth.podTrouble).prefix(3)
        guard !troubles.isEmpty else { return verdict }
        return ObjectHealth.Verdict(state: verdict.state, message: ([verdict.message].compactMap { $0 } + troubles).joined(separator: "; "))
    }

    /// A Service that selects pods is ready once it has a ready endpoint; the Endpoints object is
    /// the endpoints controller's, so a cluster that publishes none says nothing either way.
    private func serviceEndpoints(_ service: JSONValue, _ verdict: ObjectHealth.Verdict) async -> ObjectHealth.Verdict {
        let collection = "/api/v1/namespaces/\(namespace)/endpoints"
        if live[collection] == nil, let list = try? await client.get(collection) {
            live[collection] = KubernetesClient.byName(list["items"]?.arrayValue ?? [])
        }
        guard service["spec"]?["selector"]?.objectValue?.isEmpty == false, service["spec"]?["type"]?.stringValue != "ExternalName",
            let name = service["metadata"]?["name"]?.stringValue, let endpoints = live[collection]?[name]
        else { return verdict }
        let ready = (endpoints["subsets"]?.arrayValue ?? []).contains { ($0["addresses"]?.arrayValue ?? []).isEmpty == false }
        return ready ? verdict : ObjectHealth.Verdict(state: .progressing, message: "service has no ready endpoints")
    }

    private func confinement(for component: ResolvedComponent) async -> NamespaceConfinement {
        let needsRules = component.manifests.contains { ($0["apiVersion"]?.stringValue ?? "").hasPrefix("rbac.authorization.k8s.io/") }
        guard needsRules else { return NamespaceConfinement(namespace: namespace, agentRules: nil) }
        let now = clock.now()
        if let cached = agentRules, now.timeIntervalSince(cached.readAt) < settings.rulesTTL.timeInterval, cached.rules != nil {
            return NamespaceConfinement(namespace: namespace, agentRules: cached.rules)
        }
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": ["namespace": .string(namespace)]]
        let rules = try? await client.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", review)["status"]?["resourceRules"]?
            .arrayValue?.map(PolicyRule.init)
        agentRules = (rules, now)
        return NamespaceConfinement(namespace: namespace, agentRules: rules)
    }

    // MARK: Removal

    private func uninstall(_ workspace: String) async {
        var record = inventory.load(workspace)
        for (name, component) in record.components {
            let remaining = await prune(component.objects, workspace: workspace, component: name)
            record.components[name] = remaining.isEmpty ? nil : ComponentRecord(objects: remaining)
        }
        save(record, workspace)
        if record.components.isEmpty {
            progress[workspace] = nil
            await notify?(InstallerEvent(reason: "WorkspacePruned", action: "Prune", note: "workspace \(workspace): its components were removed"))
            logger.info("workspace uninstalled", metadata: ["workspace": "\(workspace)"])
        }
    }

    /// Deletes the objects that still carry this workspace's and component's labels (in reverse
    /// install order), each with a uid precondition; returns those that could not be deleted yet.
    func prune(_ keys: Set<ObjectKey>, workspace: String, component: String) async -> Set<ObjectKey> {
        var remaining = Set<ObjectKey>()
        for key in keys.sorted(by: { InstallPlan.rank($0.kind) > InstallPlan.rank($1.kind) }) {
            do {
                guard let resource = try await discovery.resource(apiVersion: key.apiVersion, kind: key.kind) else { continue }
                let path = resource.path(namespace: namespace, name: key.name)
                let live = try await client.get(path)
                guard OwnershipLabels.owned(live, workspace: workspace, component: component) else {
                    logger.info("left alone: no longer labelled as this component's", metadata: ["workspace": "\(workspace)", "object": "\(key)"])
                    continue
                }
                try await client.delete(path, uid: live["metadata"]?["uid"]?.stringValue)
                Counter(label: "qbeast_agent_kubernetes_prunes_total").increment()
                logger.info("pruned", metadata: ["workspace": "\(workspace)", "component": "\(component)", "object": "\(key)"])
            } catch let error as KubernetesAPIError where error.isNotFound || error.code == 409 {
                continue  // gone already, or replaced by someone else since it was read
            } catch {
                logger.warning("prune failed; retrying later", metadata: ["object": "\(key)", "error": "\(error)"])
                remaining.insert(key)
            }
        }
        return remaining
    }

    private func save(_ record: WorkspaceInventory, _ workspace: String) {
        do {
            try inventory.save(record, for: workspace)
        } catch {
            logger.error("cannot write the install inventory", metadata: ["workspace": "\(workspace)", "error": "\(error)"])
        }
    }
}

/// What one pass left behind for a component.
struct ComponentProgress: Sendable {
    var ref: ComponentRef
    var plan: InstallPlan?
    /// The hash a full apply was last started for (a restart forgets it and applies again what is not recorded as applied).
    var attempted: String?
    var objects: [ObjectKey: ObjectProgress] = [:]
    var fetchError: String?
    var failures = 0
    var retryAt: Date?

    init(ref: ComponentRef) { self.ref = ref }
}

struct ObjectProgress: Sendable {
    enum State: String, Sendable {
        case ready = "Ready", progressing = "Progressing", failed = "Failed", refused = "Refused", pending = "Pending"
        init(_ health: ObjectHealth.State) { self = State(rawValue: health.rawValue) ?? .progressing }
    }

    var state: State
    var message: String?
    var isApplied = false
    var attempts = 0
    var retryAt: Date?
    /// `metadata.generation` the agent's last apply produced: a later one means someone changed the spec.
    var generation: Int?
}
