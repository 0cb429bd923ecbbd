import AlertRouting
import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Alertmanager's mute stages for one flush round: active silences, then inhibition by firing alerts.
struct AlertMutes: Sendable {
    var silences: [[LabelMatcher]]
    var inhibitRules: [InhibitRule]
    /// Routing labels of every firing alert that matches some rule's source side.
    var inhibitSources: [(key: String, labels: [String: String])]

    static func load(store: any AlertingStore, config: RoutingConfig, at now: Date) async throws -> AlertMutes {
        let silences = try await store.silences(at: now).filter { $0.state == .active }.compactMap { silence in
            // Matchers were validated on creation; one that no longer parses silences nothing.
            try? silence.matchers.map { text throws(RoutingConfigError) in try LabelMatcher.parse(text) }
        }
        var sources: [(String, [String: String])] = []
        if !config.inhibitRules.isEmpty {
            for alert in try await store.alerts(AlertFilter(state: .firing)) where alert.isFiring(at: now) {
                let labels = alert.routingLabels
                if config.inhibitRules.contains(where: { rule in rule.sourceMatchers.allSatisfy { $0.matches(labels) } }) {
                    sources.append((alert.key, labels))
                }
            }
        }
        return AlertMutes(silences: silences, inhibitRules: config.inhibitRules, inhibitSources: sources)
    }

    func isSilenced(_ labels: [String: String]) -> Bool {
        silences.contains { matchers in matchers.allSatisfy { $0.matches(labels) } }
    }

    func isInhibited(_ key: String, _ labels: [String: String]) -> Bool {
        inhibitRules.contains { rule in
            inhibitSources.contains { source in source.key != key && rule.inhibits(target: labels, source: source.labels) }
        }
    }

    func isMuted(_ alert: StoredAlert) -> Bool {
        let labels = alert.routingLabels
        return isInhibited(alert.key, labels) || isSilenced(labels)
    }
}
