import Foundation
import SplitPlaneProtocol

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
