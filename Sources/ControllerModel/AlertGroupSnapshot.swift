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

    public init(
        id: String, route: String, receiver: String, groupLabels: [String: String], createdAt: Date, nextFlushAt: Date,
        lastNotifiedAt: Date?, notifiedFiring: Set<String>, notifiedResolved: Set<String>, acknowledgement: Acknowledgement?,
        alerts: [StoredAlert]
    ) {
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
