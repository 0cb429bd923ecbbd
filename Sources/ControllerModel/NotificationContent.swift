import Foundation
import SplitPlaneProtocol

/// Everything a notifier needs to render one group notification, stored with the notification so
/// that a retry after a restart sends exactly what was decided.
public struct NotificationContent: Codable, Equatable, Sendable {
    public var groupID: String
    /// Alertmanager's `groupKey`: the route and the group labels.
    public var groupKey: String
    public var route: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var firing: [StoredAlert]
    public var resolved: [StoredAlert]
    public var reason: NotificationPolicy.Reason
    public var acknowledgement: Acknowledgement?
    /// The route's repeat interval in seconds (nil: never), so a forwarded alert stays valid until the next repeat.
    public var repeatIntervalSeconds: Double?
    public var groupIntervalSeconds: Double
    public var createdAt: Date

    public init(
        groupID: String, groupKey: String, route: String, receiver: String, groupLabels: [String: String], firing: [StoredAlert],
        resolved: [StoredAlert], reason: NotificationPolicy.Reason, acknowledgement: Acknowledgement?, repeatIntervalSeconds: Double?,
        groupIntervalSeconds: Double, createdAt: Date
    ) {
        self.groupID = groupID
        self.groupKey = groupKey
        self.route = route
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.firing = firing
        self.resolved = resolved
        self.reason = reason
        self.acknowledgement = acknowledgement
        self.repeatIntervalSeconds = repeatIntervalSeconds
        self.groupIntervalSeconds = groupIntervalSeconds
        self.createdAt = createdAt
    }

    public var status: AlertState { firing.isEmpty ? .resolved : .firing }
    public var alerts: [StoredAlert] { firing + resolved }

    public var alertsHash: String {
        let text = firing.map(\.key).sorted().joined(separator: ",") + "|" + resolved.map(\.key).sorted().joined(separator: ",")
        return Hex.sha256(text, bytes: 12)
    }

    /// Labels every alert of the notification shares.
    public var commonLabels: [String: String] { Self.common(alerts.map(\.routingLabels)) }
    public var commonAnnotations: [String: String] { Self.common(alerts.map(\.annotations)) }

    /// The most severe `severity` among firing alerts (or all, when resolved): critical, warning, info, other.
    public var severity: String? {
        let candidates = (firing.isEmpty ? resolved : firing).compactMap { $0.labels["severity"] }
        let order = ["critical", "error", "warning", "info"]
        return candidates.min { (order.firstIndex(of: $0) ?? order.count) < (order.firstIndex(of: $1) ?? order.count) }
    }

    public static func common(_ sets: [[String: String]]) -> [String: String] {
        guard var common = sets.first else { return [:] }
        for set in sets.dropFirst() { common = common.filter { set[$0.key] == $0.value } }
        return common
    }

    public static func groupKey(route: String, groupLabels: [String: String]) -> String {
        "\(route):{" + groupLabels.keys.sorted().map { "\($0)=\"\(groupLabels[$0]!)\"" }.joined(separator: ",") + "}"
    }
}
