import Foundation
import SplitPlaneProtocol

/// Decides whether a group flush notifies: Alertmanager's dedup stage (`needsUpdate`) plus
/// acknowledgement, which Alertmanager does not have.
public struct NotificationPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case skip
        /// `rearm`: the acknowledgement no longer holds (a new alert joined, the group fired again, or
        /// `ack_timeout` ran out).
        case notify(reason: Reason, rearm: Bool)
    }

    public enum Reason: String, Codable, Sendable {
        case new, changed, resolved, repeated = "repeat", ackTimeout = "ack-timeout"
    }

    public var sendResolved: Bool
    public var repeatInterval: Duration?
    public var ackTimeout: Duration?

    public init(sendResolved: Bool, repeatInterval: Duration?, ackTimeout: Duration?) {
        self.sendResolved = sendResolved
        self.repeatInterval = repeatInterval
        self.ackTimeout = ackTimeout
    }

    public func decide(firing: Set<String>, resolved: Set<String>, group: AlertGroupSnapshot, at now: Date) -> Decision {
        guard let lastNotifiedAt = group.lastNotifiedAt else {
            return firing.isEmpty ? .skip : .notify(reason: .new, rearm: true)
        }
        if !firing.isSubset(of: group.notifiedFiring) {
            return .notify(reason: group.notifiedFiring.isEmpty ? .new : .changed, rearm: true)
        }
        if firing.isEmpty {
            // Everything that was notified as firing has resolved: say so (or, without send_resolved,
            // only clear the log). Alerts that fired and resolved between two flushes were never
            // announced, so there is nothing to take back.
            return group.notifiedFiring.isEmpty ? .skip : .notify(reason: .resolved, rearm: false)
        }
        if sendResolved && !resolved.isSubset(of: group.notifiedResolved) {
            return .notify(reason: .resolved, rearm: false)
        }
        if let acknowledgement = group.acknowledgement {
            guard let ackTimeout, now >= acknowledgement.at.addingTimeInterval(ackTimeout.timeInterval) else { return .skip }
            return .notify(reason: .ackTimeout, rearm: true)
        }
        guard let repeatInterval, now >= lastNotifiedAt.addingTimeInterval(repeatInterval.timeInterval) else { return .skip }
        return .notify(reason: .repeated, rearm: false)
    }
}
