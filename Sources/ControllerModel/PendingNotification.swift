import Foundation
import SplitPlaneProtocol

public struct PendingNotification: Sendable {
    public var id: Int64
    public var integration: String
    public var content: NotificationContent
    public var attempts: Int
    /// When an attempt began whose outcome was never learned (its process died, or the request
    /// timed out): the receiver may already have this notification.
    public var unrecordedAttemptAt: Date?

    public init(id: Int64, integration: String, content: NotificationContent, attempts: Int, unrecordedAttemptAt: Date? = nil) {
        self.id = id
        self.integration = integration
        self.content = content
        self.attempts = attempts
        self.unrecordedAttemptAt = unrecordedAttemptAt
    }
}
