/// One value the ceiling kept from leaving: which rule, which field, and why — never the value itself,
/// so it can be counted, logged and put in a Kubernetes Event as it is.
public struct BoundaryViolation: Sendable, Equatable, Hashable {
    public enum Reason: String, Sendable, CaseIterable {
        /// A label or annotation name outside the ceiling.
        case labelName = "label_name"
        case annotationName = "annotation_name"
        /// A value longer than the ceiling allows (dropped or redacted, per `onViolation`).
        case labelLength = "label_length"
        case annotationLength = "annotation_length"
        /// A customer redaction pattern matched (the match became `[redacted]`).
        case redactionPattern = "redaction_pattern"
        /// The alert as a whole was larger than `maxAlertBytes`.
        case alertSize = "alert_size"
    }

    public var workspace: String
    public var rule: String
    /// `labels.<name>` or `annotations.<name>`.
    public var field: String
    public var reason: Reason

    public init(workspace: String, rule: String, field: String, reason: Reason) {
        self.workspace = workspace
        self.rule = rule
        self.field = field
        self.reason = reason
    }
}
