import AlertTemplates
import Foundation
import SplitPlaneProtocol

/// Applies one evaluation result to a rule's alert state with the semantics of Prometheus'
/// `rules/alerting.go` (and vmalert): inactive → pending → firing → resolved, `for`,
/// `keep_firing_for`, 15-minute retention of resolved alerts, duplicate label sets and `limit` as
/// errors of the rule.
public enum RuleEvaluator {
    /// How long a resolved alert is kept (and re-sent) so the receiver surely learns it resolved.
    public static let resolvedRetention: TimeInterval = 15 * 60

    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// `state` maps alert fingerprints to alerts. On error it is left as it was, except for `limit`,
    /// which (as in Prometheus) clears it.
    public static func evaluate(
        _ rule: CompiledRule, samples: [QuerySample], at time: Date, limit: Int,
        state: inout [String: ActiveAlert], externalLabels: [String: String] = [:],
        query: (@Sendable (String) async throws -> [QuerySample])? = nil, templateLabels: Set<String>? = nil
    ) async throws(Failure) -> Void {
        var fresh: [String: ActiveAlert] = [:]
        for sample in samples {
            // With a data boundary, templates see only the labels allowed to leave: an allowed label or
            // annotation cannot carry a label the boundary keeps back.
            let visible = templateLabels.map { names in sample.labels.filter { names.contains($0.key) } } ?? sample.labels
            let data = TemplateData(labels: visible, value: sample.value, externalLabels: externalLabels, query: query)
            var labels = sample.labels
            labels["__name__"] = nil
            for (name, template) in rule.labelTemplates {
                let value = await expand(template, data)
                // As with Prometheus' label builder, an empty value removes the label.
                labels[name] = value.isEmpty ? nil : value
            }
            labels["alertname"] = rule.name
            var annotations: [String: String] = [:]
            for (name, template) in rule.annotationTemplates {
                annotations[name] = await expand(template, data)
            }
            let fingerprint = Fingerprint.of(labels: labels)
            if fresh[fingerprint] != nil {
                throw Failure(message: "vector contains metrics with the same labelset after applying alert labels")
            }
            fresh[fingerprint] = ActiveAlert(labels: labels, annotations: annotations, state: .pending, value: sample.value, activeAt: time)
        }

        var next = state
        for (fingerprint, alert) in fresh {
            if var existing = next[fingerprint], existing.state != .inactive {
                existing.value = alert.value
                existing.annotations = alert.annotations
                next[fingerprint] = existing
            } else {
                next[fingerprint] = alert
            }
        }

        var activeCount = 0
        for (fingerprint, var alert) in next {
            if fresh[fingerprint] == nil {
                var keepFiring = false
                if alert.state == .firing && rule.keepFiringFor > .zero {
                    let since = alert.keepFiringSince ?? time
                    alert.keepFiringSince = since
                    keepFiring = time.timeIntervalSince(since) < rule.keepFiringFor.timeInterval
                }
                if alert.state == .pending
                    || (alert.resolvedAt.map { time.timeIntervalSince($0) > resolvedRetention } ?? false)
                {
                    next[fingerprint] = nil
                    continue
                }
                if alert.state != .inactive && !keepFiring {
                    alert.state = .inactive
                    alert.resolvedAt = time
                }
                next[fingerprint] = alert
                if !keepFiring { continue }
            } else {
                alert.keepFiringSince = nil
            }
            activeCount += 1
            if alert.state == .pending && time.timeIntervalSince(alert.activeAt) >= rule.holdDuration.timeInterval {
                alert.state = .firing
                alert.firedAt = time
            }
            next[fingerprint] = alert
        }

        if limit > 0 && activeCount > limit {
            state = [:]
            throw Failure(message: "exceeded limit of \(limit) with \(activeCount) alerts")
        }
        state = next
    }

    /// A template that fails at evaluation time yields Prometheus' marker text instead of an alert lost.
    private static func expand(_ template: AlertTemplate, _ data: TemplateData) async -> String {
        do {
            return try await template.render(data)
        } catch {
            return "<error expanding template: \(error)>"
        }
    }

    /// Marks the alerts due for sending as sent at `time` and returns them as wire alerts.
    /// `validUntil` follows Prometheus: four resend periods (or intervals), so a receiver that stops
    /// hearing about a firing alert lets it expire on its own.
    public static func takeAlertsToSend(
        from state: inout [String: ActiveAlert], workspace: String, at time: Date,
        resendDelay: Duration, interval: Duration
    ) -> [AgentAlert] {
        var sending: [AgentAlert] = []
        for fingerprint in state.keys.sorted() {
            guard var alert = state[fingerprint], alert.needsSending(at: time, resendDelay: resendDelay) else { continue }
            alert.lastSentAt = time
            alert.validUntil = time.addingTimeInterval(4 * max(resendDelay, interval).timeInterval)
            state[fingerprint] = alert
            sending.append(
                AgentAlert(
                    workspace: workspace,
                    state: alert.resolvedAt == nil ? .firing : .resolved,
                    labels: alert.labels,
                    annotations: alert.annotations,
                    startsAt: alert.firedAt ?? alert.activeAt,
                    endsAt: alert.resolvedAt ?? alert.validUntil,
                    value: alert.value.isFinite ? alert.value : nil
                ))
        }
        return sending
    }
}
