import Foundation
import SplitPlaneProtocol

/// A group as the store holds it, read inside the transaction that flushes it.
public struct AlertGroupSnapshot: Sendable {
    public var id: String
    public var route: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var createdAt: Date
    public var nextFlushAt: Date
    /// The notification log entry: what the last notification said and when.
    public var lastNotifiedAt: Date?
    public var notifiedFiring: Set<String>
    public var notifiedResolved: Set<String>
    public var acknowledgement: Acknowledgement?
    public var alerts: [StoredAlert]

    public init(id: String, route: String, receiver: String, groupLabels: [String: String], createdAt: Date, nextFlushAt: Date,
                lastNotifiedAt: Date?, notifiedFiring: Set<String>, notifiedResolved: Set<String>, acknowledgement: Acknowledgement?,
                alerts: [StoredAlert]) {
        self.id = id
        self.route = route
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.createdAt = createdAt
        self.nextFlushAt = nextFlushAt
        self.lastNotifiedAt = lastNotifiedAt
        self.notifiedFiring = notifiedFiring
        self.notifiedResolved = notifiedResolved
        self.acknowledgement = acknowledgement
        self.alerts = alerts
    }
}

/// What one flush changes, written in the same transaction that read the snapshot.
public struct AlertGroupFlush: Sendable {
    public struct NewNotification: Sendable {
        public var integration: String
        public var content: NotificationContent
    }

    public var nextFlushAt: Date
    /// Set when a notification was decided: the new notification-log entry.
    public var notified: (at: Date, firing: Set<String>, resolved: Set<String>)?
    public var acknowledgement: Acknowledgement?
    public var notifications: [NewNotification]
    /// Resolved alerts this flush has dealt with; they leave the group (and an empty group goes).
    public var removeAlerts: [StoredAlert]
}
