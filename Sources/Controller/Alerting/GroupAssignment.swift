import AlertRouting
import Crypto
import Foundation
import SplitPlaneProtocol

/// Which aggregation group an alert joins on one route: Alertmanager's group key, made stable and short.
public struct GroupAssignment: Sendable, Equatable {
    public var groupID: String
    public var route: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var groupWait: Duration

    init(route: RoutingConfig.Route, labels: [String: String]) {
        let groupLabels: [String: String] = route.groupBy.contains("...")
            ? labels
            : Dictionary(uniqueKeysWithValues: route.groupBy.compactMap { name in labels[name].map { (name, $0) } })
        self.route = route.path
        self.receiver = route.receiver
        self.groupLabels = groupLabels
        self.groupWait = route.groupWait
        let key = "\(route.path)\u{0}\(route.receiver)\u{0}" + groupLabels.keys.sorted().map { "\($0)=\(groupLabels[$0]!)" }.joined(separator: "\u{0}")
        groupID = SHA256.hash(data: Data(key.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

extension RoutingConfig {
    /// Every group the alert belongs to, one per matching route.
    public func assignments(for alert: StoredAlert) -> [GroupAssignment] {
        let labels = alert.routingLabels
        return root.match(labels).map { GroupAssignment(route: $0, labels: labels) }
    }
}

extension StoredAlert {
    /// The labels routes, silences and inhibitions see: the agent's, plus `tenant` and `environment`
    /// from its certificate and the `workspace` it reported the alert for.
    public var routingLabels: [String: String] {
        var labels = self.labels
        labels["tenant"] = tenant
        labels["environment"] = environment
        if labels["workspace"] == nil { labels["workspace"] = workspace }
        return labels
    }

    /// Unique across the controller: fingerprints are unique only within an environment.
    public var key: String { "\(tenant)/\(environment)/\(fingerprint)" }

    /// Firing until the agent says it resolved, or until its validity ran out without a refresh
    /// (the agent went silent): Alertmanager's `endsAt` rule.
    public func isFiring(at now: Date) -> Bool {
        state == .firing && (endsAt.map { $0 > now } ?? true)
    }
}
