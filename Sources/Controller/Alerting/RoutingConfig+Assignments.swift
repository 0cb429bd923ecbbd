import AlertRouting
import ControllerModel
import Foundation
import SplitPlaneProtocol

extension GroupAssignment {
    /// The group of `route` for an alert with these labels: Alertmanager's group key, hashed.
    init(route: RoutingConfig.Route, labels: [String: String]) {
        let groupLabels: [String: String] =
            route.groupBy.contains("...")
            ? labels
            : Dictionary(uniqueKeysWithValues: route.groupBy.compactMap { name in labels[name].map { (name, $0) } })
        let key = "\(route.path)\u{0}\(route.receiver)\u{0}" + groupLabels.keys.sorted().map { "\($0)=\(groupLabels[$0]!)" }.joined(separator: "\u{0}")
        self.init(
            groupID: Hex.sha256(key, bytes: 8),
            route: route.path, receiver: route.receiver, groupLabels: groupLabels, groupWait: route.groupWait)
    }
}

extension RoutingConfig {
    /// Every group the alert belongs to, one per matching route.
    public func assignments(for alert: StoredAlert) -> [GroupAssignment] {
        let labels = alert.routingLabels
        return root.match(labels).map { GroupAssignment(route: $0, labels: labels) }
    }
}
