import Foundation
import SplitPlaneProtocol

/// Maps an alert onto the groups it joins; the store calls it inside the transaction that records the alert.
public typealias AlertAssigner = @Sendable (StoredAlert) -> [GroupAssignment]

/// The alerting half of the store: the alerts agents report, aggregation groups with their notification log and
/// acknowledgement, the notification outbox, and silences. Every flush reads and writes its group in
/// one transaction, so a restart neither repeats a notification nor forgets one that was due.
public protocol AlertingStore: Sendable {
    /// Stores a batch unless (tenant, environment, instance, sequence) was stored before, and puts each
    /// alert into the groups `assign` names, in the same transaction. Returns false for a duplicate.
    func recordAlertBatch(tenant: String, environment: String, batch: AlertBatch, at now: Date, assign: @escaping AlertAssigner) async throws -> Bool
    func alerts(_ filter: AlertFilter) async throws -> [StoredAlert]

    /// Re-derives every group membership from the stored alerts (at start-up and after a routing
    /// reload). Groups that keep their identity keep their notification log and acknowledgement.
    func rebuildAlertGroups(at now: Date, assign: @escaping AlertAssigner) async throws
    func dueAlertGroups(at now: Date) async throws -> [String]
    func nextAlertGroupFlush() async throws -> Date?
    /// Reads the group, lets `plan` decide, and writes the outcome, in one transaction.
    func flushAlertGroup(id: String, at now: Date, plan: @escaping @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws
    /// The same for a round of due groups. A store may write them in one transaction (SQLite: one
    /// durable commit instead of one per group); each group is still read and planned on its own.
    func flushAlertGroups(ids: [String], at now: Date, plan: @escaping @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws
    func alertGroups(tenant: String?, at now: Date) async throws -> [AlertGroup]
    /// The group with its alerts.
    func alertGroup(id: String, at now: Date) async throws -> AlertGroup?
    /// Sets or (nil) clears the acknowledgement; `StoreError.notFound` for an unknown group.
    func setAcknowledgement(groupID: String, _ acknowledgement: Acknowledgement?, at now: Date) async throws -> AlertGroup

    func dueNotifications(at now: Date, limit: Int) async throws -> [PendingNotification]
    func nextNotificationAttempt() async throws -> Date?
    /// Writes down that a request is about to go out, before it does: if the process dies before
    /// `recordDelivery`, whoever takes the notification over knows the receiver may already have it.
    /// False when the notification is no longer this process's to send (sent meanwhile, or its lease
    /// taken over by another replica): then nothing may be sent.
    func beginDeliveryAttempt(id: Int64, at now: Date) async throws -> Bool
    /// Extends the leases this process holds on the notifications it claimed and has not recorded
    /// yet (a long delivery round outlives one lease). SQLite leases too, with one process holding them all.
    func renewDeliveryLeases(at now: Date) async throws
    func recordDelivery(id: Int64, _ outcome: DeliveryOutcome, at now: Date) async throws
    func notifications(groupID: String?, limit: Int) async throws -> [NotificationRecord]

    func createSilence(_ silence: Silence) async throws
    /// All silences with their state at `now`, newest first.
    func silences(at now: Date) async throws -> [Silence]
    /// Ends the silence now; `StoreError.notFound` for an unknown one, `.conflict` if already expired.
    func expireSilence(id: String, at now: Date) async throws -> Silence
}

extension AlertingStore {
    /// One transaction per group (PostgreSQL: each holds its group's row lock only while it flushes).
    public func flushAlertGroups(ids: [String], at now: Date, plan: @escaping @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws {
        for id in ids { try await flushAlertGroup(id: id, at: now, plan: plan) }
    }
}
