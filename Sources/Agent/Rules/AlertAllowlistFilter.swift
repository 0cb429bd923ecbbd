import Metrics
import SplitPlaneProtocol

/// The data boundary for alerts: only allowlisted labels and annotations leave the environment, and
/// only in the size the controller accepts (`AlertLimits`, trimmed here rather than refused there).
/// Defaults: every label the rule produced; annotations `summary` and `description`.
public struct AlertAllowlistFilter: Sendable {
    let labels: Set<String>?
    let annotations: Set<String>
    public let limits: AlertLimits

    public init(_ allowlist: AlertAllowlist?, limits: AlertLimits = .default) {
        labels = allowlist?.labels.map { Set($0).union(["alertname"]) }
        annotations = Set(allowlist?.annotations ?? AlertAllowlist.defaultAnnotations)
        self.limits = limits
    }

    public func apply(_ alert: AgentAlert) -> AgentAlert {
        var filtered = alert
        var labels: [String: String] = [:]
        for (name, value) in alert.labels where self.labels?.contains(name) ?? true {
            // The controller sets `tenant` and `environment` from the certificate; a metric that
            // carries them keeps them under Prometheus' `exported_` convention instead of being refused.
            labels[AgentAlert.reservedLabels.contains(name) ? "exported_\(name)" : name] = value
        }
        filtered.labels = labels
        filtered.annotations = alert.annotations.filter { annotations.contains($0.key) }
        let (fitted, trims) = limits.conform(filtered)
        for trim in trims {
            Counter(label: "qbeast_agent_alert_trims_total", dimensions: [("field", trim.field.hasPrefix("labels") ? "labels" : "annotations")]).increment()
        }
        return fitted
    }
}
