import SplitPlaneProtocol

/// The data boundary for alerts: only allowlisted labels and annotations leave the environment.
/// Defaults: every label the rule produced; annotations `summary` and `description`.
public struct AlertAllowlistFilter: Sendable {
    let labels: Set<String>?
    let annotations: Set<String>

    public init(_ allowlist: AlertAllowlist?) {
        labels = allowlist?.labels.map { Set($0).union(["alertname"]) }
        annotations = Set(allowlist?.annotations ?? AlertAllowlist.defaultAnnotations)
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
        return filtered
    }
}
