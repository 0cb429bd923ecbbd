import Foundation
import SplitPlaneProtocol

extension DataBoundary {
    /// The alert as it may leave: names outside the ceiling removed, long values dropped or redacted,
    /// redaction patterns applied, the sample value withheld unless allowed, the size capped. `ruleLabels`
    /// are the names of the rule's own constant `labels:` (written in the rule, not read from data).
    public func apply(_ alert: AgentAlert, ruleLabels: Set<String> = []) -> (alert: AgentAlert, violations: [BoundaryViolation]) {
        if unrestricted { return (alert, []) }
        var violations: [BoundaryViolation] = []
        let rule = alert.labels["alertname"] ?? ""
        func violation(_ field: String, _ reason: BoundaryViolation.Reason) {
            violations.append(BoundaryViolation(workspace: alert.workspace, rule: rule, field: field, reason: reason))
        }
        var result = alert
        result.labels = [:]
        for (name, value) in alert.labels.sorted(by: { $0.key < $1.key }) {
            guard name == "alertname" || labels.contains(name) || ruleLabels.contains(name) else {
                violation("labels.\(name)", .labelName)
                continue
            }
            if let kept = fit(value, limit: maxLabelValueLength, field: "labels.\(name)", tooLong: .labelLength, violation) {
                result.labels[name] = kept
            }
        }
        result.annotations = [:]
        for (name, value) in alert.annotations.sorted(by: { $0.key < $1.key }) {
            guard annotations.contains(name) else {
                violation("annotations.\(name)", .annotationName)
                continue
            }
            if let kept = fit(value, limit: maxAnnotationLength, field: "annotations.\(name)", tooLong: .annotationLength, violation) {
                result.annotations[name] = kept
            }
        }
        if !sendSampleValue { result.value = nil }
        if encodedSize(result) > maxAlertBytes {
            violation("annotations", .alertSize)
            result.annotations = [:]
            if encodedSize(result) > maxAlertBytes {
                violation("labels", .alertSize)
                result.labels = result.labels.filter { ["alertname", "severity"].contains($0.key) }
            }
        }
        return (result, violations)
    }

    /// `value` with redaction patterns applied, or nil (dropped) / `[redacted]` when it is too long.
    private func fit(
        _ value: String, limit: Int, field: String, tooLong: BoundaryViolation.Reason,
        _ violation: (String, BoundaryViolation.Reason) -> Void
    ) -> String? {
        let (scrubbed, matched) = redact(value)
        if matched { violation(field, .redactionPattern) }
        guard scrubbed.count <= limit else {
            violation(field, tooLong)
            return onViolation == .drop ? nil : Self.redacted
        }
        return scrubbed
    }

    /// Every match of a redaction pattern replaced by `[redacted]`; true when anything matched.
    public func redact(_ text: String) -> (text: String, matched: Bool) {
        var text = text
        var matched = false
        for pattern in redactPatterns {
            let range = NSRange(text.startIndex..., in: text)
            guard pattern.firstMatch(in: text, range: range) != nil else { continue }
            matched = true
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: NSRegularExpression.escapedTemplate(for: Self.redacted))
        }
        return (text, matched)
    }

    private func encodedSize(_ alert: AgentAlert) -> Int {
        (try? StrictJSON.encode(alert).count) ?? Int.max
    }
}
