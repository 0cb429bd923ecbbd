import Foundation

// Operator API resources of the controller's alerting: alert groups, acknowledgements, silences and
// the notifications sent for them. Shared by the controller and `qbctl`.

/// Alerts that one route gathers under one set of `group_by` label values, notified together.
public struct AlertGroup: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "AlertGroup"
    /// Stable: derived from route, receiver and group labels, so it survives restarts and reloads.
    public var id: String
    public var route: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var firing: Int
    public var resolved: Int
    public var createdAt: Date
    public var nextFlushAt: Date
    public var lastNotifiedAt: Date?
    public var acknowledgement: Acknowledgement?
    /// Present on `GET /v1/alert-groups/{id}`; omitted in lists.
    public var alerts: [StoredAlert]?

    public init(
        id: String, route: String, receiver: String, groupLabels: [String: String], firing: Int, resolved: Int,
        createdAt: Date, nextFlushAt: Date, lastNotifiedAt: Date?, acknowledgement: Acknowledgement?, alerts: [StoredAlert]? = nil
    ) {
        self.id = id
        self.route = route
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.firing = firing
        self.resolved = resolved
        self.createdAt = createdAt
        self.nextFlushAt = nextFlushAt
        self.lastNotifiedAt = lastNotifiedAt
        self.acknowledgement = acknowledgement
        self.alerts = alerts
    }
}

/// Who acknowledged a group, when, and through what (`api`, `slack`).
public struct Acknowledgement: Codable, Equatable, Sendable {
    public var by: String
    public var at: Date
    public var via: String
    public var comment: String?

    public init(by: String, at: Date, via: String, comment: String? = nil) {
        self.by = by
        self.at = at
        self.via = via
        self.comment = comment
    }
}

/// Body of `POST /v1/alert-groups/{id}/ack`.
public struct AcknowledgeRequest: Codable, Equatable, Sendable {
    public var by: String?
    public var comment: String?

    public init(by: String? = nil, comment: String? = nil) {
        self.by = by
        self.comment = comment
    }

    public func validate() throws(ValidationError) {
        if let by, by.isEmpty || by.count > 100 { throw ValidationError(field: "by", reason: "must be 1 to 100 characters") }
        if let comment, comment.count > 1000 { throw ValidationError(field: "comment", reason: "at most 1000 characters") }
    }
}

/// Body of `POST /v1/silences`: Alertmanager's silence, with matchers in their text form.
public struct SilenceRequest: Codable, Equatable, Sendable {
    public var matchers: [String]
    public var startsAt: Date?
    public var endsAt: Date?
    /// Alternative to `endsAt`: a Prometheus duration from `startsAt` (e.g. `2h`).
    public var duration: String?
    public var createdBy: String
    public var comment: String

    public init(matchers: [String], startsAt: Date? = nil, endsAt: Date? = nil, duration: String? = nil, createdBy: String, comment: String) {
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.duration = duration
        self.createdBy = createdBy
        self.comment = comment
    }
}

public struct Silence: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable, CaseIterable { case pending, active, expired }

    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "Silence"
    public var id: String
    public var matchers: [String]
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var comment: String
    public var createdAt: Date
    public var state: State

    public init(id: String, matchers: [String], startsAt: Date, endsAt: Date, createdBy: String, comment: String, createdAt: Date, state: State) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
        self.createdAt = createdAt
        self.state = state
    }

    public static func state(startsAt: Date, endsAt: Date, at now: Date) -> State {
        now < startsAt ? .pending : (now < endsAt ? .active : .expired)
    }
}

/// One message for one integration of a receiver, recorded before it is sent.
public struct NotificationRecord: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// Waiting for its first attempt or a retry.
        case pending
        case sent
        /// Refused by the receiver in a way retrying cannot fix (a 4xx other than 429).
        case failed
        /// A newer notification for the same group and integration replaced it before it went out.
        case superseded
    }

    public var id: Int64
    public var groupID: String
    public var receiver: String
    public var integration: String
    public var firing: Int
    public var resolved: Int
    /// Hash of the notified alert sets; the same alerts in the same states hash the same.
    public var alertsHash: String
    public var state: State
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    public var lastError: String?
    /// A pending notification whose attempt went out at this time without its answer being recorded:
    /// in flight, or lost (a timeout, a replica that died). The next attempt asks the receiver first
    /// where it can (a Slack app's channel), so it is not sent twice.
    public var unansweredSince: Date?

    public init(
        id: Int64, groupID: String, receiver: String, integration: String, firing: Int, resolved: Int, alertsHash: String,
        state: State, attempts: Int, createdAt: Date, nextAttemptAt: Date?, sentAt: Date?, lastError: String?,
        unansweredSince: Date? = nil
    ) {
        self.id = id
        self.groupID = groupID
        self.receiver = receiver
        self.integration = integration
        self.firing = firing
        self.resolved = resolved
        self.alertsHash = alertsHash
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.sentAt = sentAt
        self.lastError = lastError
        self.unansweredSince = unansweredSince
    }
}
