import Foundation
import SplitPlaneProtocol

/// Maps an alert onto the groups it joins; the store calls it inside the transaction that records the alert.
public typealias AlertAssigner = @Sendable (StoredAlert) -> [GroupAssignment]

/// The alerting half of the store: aggregation groups with their notification log and
/// acknowledgement, the notification outbox, and silences. Every flush reads and writes its group in
/// one transaction, so a restart neither repeats a notification nor forgets one that was due.
public protocol AlertingStore: Sendable {
    /// Re-derives every group membership from the stored alerts (at start-up and after a routing
    /// reload). Groups that keep their identity keep their notification log and acknowledgement.
    func rebuildAlertGroups(at now: Date, assign: AlertAssigner) async throws
    func dueAlertGroups(at now: Date) async throws -> [String]
    func nextAlertGroupFlush() async throws -> Date?
    /// Reads the group, lets `plan` decide, and writes the outcome, in one transaction.
    func flushAlertGroup(id: String, at now: Date, plan: @Sendable (AlertGroupSnapshot) -> AlertGroupFlush) async throws
    func alertGroups(tenant: String?, at now: Date) async throws -> [AlertGroup]
    /// The group with its alerts.
    func alertGroup(id: String, at now: Date) async throws -> AlertGroup?
    /// Sets or (nil) clears the acknowledgement; `StoreError.notFound` for an unknown group.
    func setAcknowledgement(groupID: String, _ acknowledgement: Acknowledgement?, at now: Date) async throws -> AlertGroup

    func dueNotifications(at now: Date, limit: Int) async throws -> [PendingNotification]
    func nextNotificationAttempt() async throws -> Date?
    func recordDelivery(id: Int64, _ outcome: DeliveryOutcome, at now: Date) async throws
    func notifications(groupID: String?, limit: Int) async throws -> [NotificationRecord]

    func createSilence(_ silence: Silence) async throws
    /// All silences with their state at `now`, newest first.
    func silences(at now: Date) async throws -> [Silence]
    /// Ends the silence now; `StoreError.notFound` for an unknown one, `.conflict` if already expired.
    func expireSilence(id: String, at now: Date) async throws -> Silence
}

public struct PendingNotification: Sendable {
    public var id: Int64
    public var integration: String
    public var content: NotificationContent
    public var attempts: Int
}

public enum DeliveryOutcome: Sendable, Equatable {
    case sent
    case retry(at: Date, error: String)
    /// Not attempted (the channel's rate limit): tried again then, without counting an attempt.
    case deferred(until: Date)
    case failed(String)
}
