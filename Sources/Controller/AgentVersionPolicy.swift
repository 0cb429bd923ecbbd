import Foundation
import SplitPlaneProtocol

/// Which agent versions this controller works with: its own minor release and the one before it
/// (same major version). Agents are upgraded by customers, on their schedule, so one minor release of
/// slack is promised; anything else is flagged on the environment for operators to follow up.
public struct AgentVersionPolicy: Sendable {
    public static let conditionType = "AgentVersionSupported"
    public let controller: SemanticVersion?

    public init(controllerVersion: String = BuildVersion.current) {
        controller = SemanticVersion(controllerVersion)
    }

    public var supportedRange: String {
        guard let controller else { return "unknown" }
        return controller.minor > 0
            ? "\(controller.major).\(controller.minor - 1).x and \(controller.major).\(controller.minor).x"
            : "\(controller.major).\(controller.minor).x"
    }

    /// The `AgentVersionSupported` condition of an environment whose agent reported `facts`.
    public func condition(for environment: SplitPlaneProtocol.Environment) -> Condition {
        let at = environment.agentLastSeen ?? environment.createdAt
        func condition(_ status: Condition.Status, _ reason: String, _ message: String) -> Condition {
            Condition(type: Self.conditionType, status: status, reason: reason, message: message, lastTransitionTime: at)
        }
        guard let facts = environment.agent else { return condition(.unknown, "NoAgent", "no agent has connected yet") }
        guard let controller else { return condition(.unknown, "ControllerVersionUnknown", "this controller's version is not a semantic version") }
        guard let agent = SemanticVersion(facts.version) else {
            return condition(.false, "UnknownVersion", "the agent reports version \"\(facts.version.prefix(40))\"; this controller supports \(supportedRange)")
        }
        if agent.major < controller.major || (agent.major == controller.major && agent.minor + 1 < controller.minor) {
            return condition(
                .false, "AgentOutdated", "agent \(agent) is older than this controller (\(controller)) supports: \(supportedRange); upgrade the agent chart")
        }
        if agent.major > controller.major || agent.minor > controller.minor {
            return condition(.false, "AgentNewer", "agent \(agent) is newer than this controller (\(controller)); upgrade the controller first")
        }
        return condition(.true, "Supported", "agent \(agent) is within \(supportedRange)")
    }

    /// The environment as the API shows it: with its computed conditions.
    public func decorate(_ environment: SplitPlaneProtocol.Environment) -> SplitPlaneProtocol.Environment {
        var decorated = environment
        // A managed environment also shows how far provisioning (or its teardown) got.
        decorated.conditions = [condition(for: environment)] + (environment.provisioning?.conditions ?? [])
        return decorated
    }
}
