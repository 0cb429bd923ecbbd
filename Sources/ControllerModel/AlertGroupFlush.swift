import Foundation
import SplitPlaneProtocol

/// What one flush changes, written in the same transaction that read the snapshot.
public struct AlertGroupFlush: Sendable {
    public struct NewNotification: Sendable {
        public var integration: String
        public var content: NotificationContent

        public init(integration: String, content: NotificationContent) {
            self.integration = integration
            self.content = content
        }
    }

    public var nextFlushAt: Date
    /// Set when a notification was decided: the new notification-log entry.
    public var notified: (at: Date, firing: Set<String>, resolved: Set<String>)?
    public var acknowledgement: Acknowledgement?
    public var notifications: [NewNotification]
    /// Resolved alerts this flush has dealt with; they leave the group (and an empty group goes).
    public var removeAlerts: [StoredAlert]

    public init(
        nextFlushAt: Date, notified: (at: Date, firing: Set<String>, resolved: Set<String>)?, acknowledgement: Acknowledgement?,
        notifications: [NewNotification], removeAlerts: [StoredAlert]
    ) {
        self.nextFlushAt = nextFlushAt
        self.notified = notified
        self.acknowledgement = acknowledgement
        self.notifications = notifications
        self.removeAlerts = removeAlerts
    }
}
