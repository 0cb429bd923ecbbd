import Logging
import Metrics

/// Tells the customer what the ceiling kept back: a counter per reason, a local log line, and (when
/// the agent talks to Kubernetes) an Event naming the rule and field. Never the value.
public struct BoundaryReporter: Sendable {
    let logger: Logger
    let event: (@Sendable (BoundaryViolation) async -> Void)?

    public init(logger: Logger, event: (@Sendable (BoundaryViolation) async -> Void)? = nil) {
        self.logger = logger
        self.event = event
    }

    public func report(_ violations: [BoundaryViolation]) async {
        for violation in violations {
            Counter(label: "qbeast_agent_boundary_dropped_total", dimensions: [("reason", violation.reason.rawValue)]).increment()
        }
        // One log line and one Event per distinct (rule, field, reason) of this batch.
        for violation in Set(violations).sorted(by: { ($0.rule, $0.field) < ($1.rule, $1.field) }) {
            logger.info(
                "data boundary kept a value back",
                metadata: [
                    "workspace": "\(violation.workspace)", "rule": "\(violation.rule)", "field": "\(violation.field)",
                    "reason": "\(violation.reason.rawValue)",
                ])
            await event?(violation)
        }
    }
}
