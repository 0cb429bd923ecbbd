import ControllerModel
import Foundation
import Logging
import SQLStorage
import SplitPlaneProtocol
import SplitPlaneTesting
import Synchronization
import Testing

// Small builders shared by the store's direct tests (AlertGroupStoreTests, NotificationOutboxStoreTests,
// NotificationLeaseStoreTests, SilenceStoreTests, IdentityStoreTests, AuditStoreTests, TokenStoreTests,
// FleetStoreTests, StoreChangeFeedTests). Every test runs on a fresh database of each `TestStoreKind`
// and passes its times explicitly: `t(30)` is 30 s after the fixed start of every timeline.

/// The start of every test's timeline.
let storeEpoch = Date(timeIntervalSince1970: 1_800_000_000)

/// `seconds` after `storeEpoch`.
func t(_ seconds: TimeInterval) -> Date { storeEpoch.addingTimeInterval(seconds) }

/// How long a claim on a notification lasts: `TestStore` opens both kinds with the store's default lease.
let storeLease: TimeInterval = 30

/// Opens a fresh store of `kind`, seeds it (tenant `acme`, environment `prod`, workspace `analytics`)
/// unless `seeded` is false, runs `body`, and removes the database, also when `body` throws.
func withStore(_ kind: TestStoreKind, seeded: Bool = true, _ body: (any ControllerStore) async throws -> Void) async throws {
    try await withTestStore(kind, seeded: seeded) { opened in try await body(opened.store) }
}

/// The same, handing over the `TestStore` (for its `databasePath`, to open the database again).
func withTestStore(_ kind: TestStoreKind, seeded: Bool = true, _ body: (TestStore) async throws -> Void) async throws {
    let opened = try await TestStore.open(kind)
    do {
        if seeded { try await seed(opened.store) }
        try await body(opened)
    } catch {
        await opened.close()
        throw error
    }
    await opened.close()
}

/// Tenant `acme` with environment `prod` and its empty workspace `analytics`, all created at `t(0)`.
func seed(_ store: any ControllerStore) async throws {
    _ = try await store.createTenant(TenantRequest(name: "acme"), at: t(0))
    _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: t(0))
    _ = try await store.applyWorkspace(
        tenant: "acme", environment: "prod", name: "analytics", spec: WorkspaceSpec(), components: [],
        resolvedFor: EnvironmentSettings(), at: t(0))
}

/// Another environment (and its tenant, when new) for tests that need more than `acme/prod`.
func addEnvironment(_ store: any ControllerStore, tenant: String, _ name: String) async throws {
    if try await store.tenant(tenant) == nil { _ = try await store.createTenant(TenantRequest(name: tenant), at: t(0)) }
    _ = try await store.createEnvironment(tenant: tenant, EnvironmentRequest(name: name, cloud: .aws, mode: .provided), at: t(0))
}

/// Two replicas `a` and `b` of one fresh PostgreSQL database (seeded through `a`), each with its own pool.
func withTwoReplicas(_ body: (SQLStore, SQLStore) async throws -> Void) async throws {
    let server = try await TestPostgres.shared()
    let url = try await server.createDatabase()
    var stores: [SQLStore] = []
    do {
        stores.append(try await SQLStore.postgres(url, logger: quietLogger, replicaID: "a", maximumConnections: 2))
        stores.append(try await SQLStore.postgres(url, logger: quietLogger, replicaID: "b", maximumConnections: 2))
        try await seed(stores[0])
        try await body(stores[0], stores[1])
    } catch {
        for store in stores { await store.close() }
        await server.dropDatabase(url)
        throw error
    }
    for store in stores { await store.close() }
    await server.dropDatabase(url)
}

let quietLogger = Logger(label: "store-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Expects `body` to throw exactly `expected`.
func expectStoreError(_ expected: StoreError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(expected), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: Alerts and groups

/// An alert of workspace `analytics` named `name`; `labels` are added to `alertname`.
func agentAlert(
    _ name: String, _ state: AlertState = .firing, labels: [String: String] = [:], startsAt: Date = t(0), endsAt: Date? = nil,
    value: Double? = nil
) -> AgentAlert {
    AgentAlert(
        workspace: "analytics", state: state, labels: labels.merging(["alertname": name]) { $1 }, annotations: [:], startsAt: startsAt,
        endsAt: endsAt ?? (state == .resolved ? startsAt : nil), value: value)
}

/// The key a stored alert of `alert` has (`StoredAlert.key`), for notification logs.
func alertKey(_ alert: AgentAlert, tenant: String = "acme", environment: String = "prod") -> String {
    "\(tenant)/\(environment)/\(alert.fingerprint)"
}

private let batchSequence = Mutex<Int64>(0)

/// Records `alerts` as one batch from agent `agent-1` (each call a new sequence number), filed by `assign`.
@discardableResult
func report(
    _ store: any AlertingStore, _ alerts: [AgentAlert], at now: Date, tenant: String = "acme", environment: String = "prod",
    assign: @escaping AlertAssigner = byAlertname()
) async throws -> Bool {
    let sequence = batchSequence.withLock {
        $0 += 1; return $0
    }
    return try await store.recordAlertBatch(
        tenant: tenant, environment: environment,
        batch: AlertBatch(instance: "agent-1", sequence: sequence, alerts: alerts), at: now, assign: assign)
}

/// An assignment to group `id` on route `root`, receiver `team`.
func assignment(_ id: String, labels: [String: String] = [:], wait: Duration = .seconds(30)) -> GroupAssignment {
    GroupAssignment(groupID: id, route: "root", receiver: "team", groupLabels: labels, groupWait: wait)
}

/// Every alert joins group `g-<alertname>`, waiting `wait` (30 s).
func byAlertname(wait: Duration = .seconds(30)) -> AlertAssigner {
    { alert in
        let name = alert.labels["alertname"] ?? ""
        return [assignment("g-\(name)", labels: ["alertname": name], wait: wait)]
    }
}

/// What a notifier would be given for `snapshot` at `time`: every alert the group holds, firing or resolved.
func notificationContent(_ snapshot: AlertGroupSnapshot, at time: Date) -> NotificationContent {
    NotificationContent(
        groupID: snapshot.id, groupKey: NotificationContent.groupKey(route: snapshot.route, groupLabels: snapshot.groupLabels),
        route: snapshot.route, receiver: snapshot.receiver, groupLabels: snapshot.groupLabels,
        firing: snapshot.alerts.filter { $0.state == .firing }, resolved: snapshot.alerts.filter { $0.state == .resolved },
        reason: .new, acknowledgement: snapshot.acknowledgement, repeatIntervalSeconds: 3600, groupIntervalSeconds: 300,
        createdAt: time)
}

/// A flush at `time` that notifies `integrations` with what the group holds, writes the notification log,
/// keeps the acknowledgement, lets resolved alerts leave and comes back `interval` later. `seen` records
/// every snapshot it is shown.
func notifyingPlan(
    at time: Date, integrations: [String] = ["slack"], interval: TimeInterval = 300,
    seen: SeenSnapshots? = nil
) -> @Sendable (AlertGroupSnapshot) -> AlertGroupFlush {
    { snapshot in
        seen?.record(snapshot)
        let firing = Set(snapshot.alerts.filter { $0.state == .firing }.map(\.key))
        let resolved = Set(snapshot.alerts.filter { $0.state == .resolved }.map(\.key))
        return AlertGroupFlush(
            nextFlushAt: time.addingTimeInterval(interval), notified: (time, firing, resolved),
            acknowledgement: snapshot.acknowledgement,
            notifications: integrations.map { AlertGroupFlush.NewNotification(integration: $0, content: notificationContent(snapshot, at: time)) },
            removeAlerts: snapshot.alerts.filter { $0.state == .resolved })
    }
}

/// A flush at `time` that decides nothing: no notification, no log entry, nothing removed; the timer
/// moves `interval` on and the acknowledgement stays.
func quietPlan(at time: Date, interval: TimeInterval = 300, seen: SeenSnapshots? = nil) -> @Sendable (AlertGroupSnapshot) -> AlertGroupFlush {
    { snapshot in
        seen?.record(snapshot)
        return AlertGroupFlush(
            nextFlushAt: time.addingTimeInterval(interval), notified: nil, acknowledgement: snapshot.acknowledgement,
            notifications: [], removeAlerts: [])
    }
}

/// The snapshots flush plans were shown, in order.
final class SeenSnapshots: Sendable {
    private let snapshots = Mutex<[AlertGroupSnapshot]>([])
    func record(_ snapshot: AlertGroupSnapshot) { snapshots.withLock { $0.append(snapshot) } }
    var all: [AlertGroupSnapshot] { snapshots.withLock { $0 } }
    var ids: [String] { all.map(\.id) }
}

// MARK: Outbox

/// Fires one alert per name at `t(0)` (each its own group `g-<name>`) and flushes the groups in the
/// order given at `time` with `notifyingPlan`: one pending `slack` notification per group, with ids
/// ascending in that order. Returns their ids.
@discardableResult
func pendingNotifications(_ store: any ControllerStore, _ names: [String], at time: Date = t(30)) async throws -> [Int64] {
    try await report(store, names.map { agentAlert($0) }, at: t(0))
    try await store.flushAlertGroups(ids: names.map { "g-\($0)" }, at: time, plan: notifyingPlan(at: time))
    let records = try await store.notifications(groupID: nil, limit: 1000)
    return names.map { name in records.first { $0.groupID == "g-\(name)" && $0.state == .pending }?.id ?? -1 }
}

/// The notification record with `id`.
func notificationRecord(_ store: any AlertingStore, _ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws -> NotificationRecord {
    try #require(try await store.notifications(groupID: nil, limit: 1000).first(where: { $0.id == id }), sourceLocation: sourceLocation)
}
