import Foundation
import SplitPlaneProtocol

/// Turns the desired workspaces into the status the agent reports on receipt: `Received` and
/// `Accepted`. Installation conditions come from the installer; an agent without a Kubernetes API
/// says plainly that it installs nothing rather than pretending the workspace is ready.
public struct WorkspaceStatusBuilder: Sendable {
    let defaultInterval: Duration
    let installing: Bool

    public init(defaultInterval: Duration = .seconds(60), installing: Bool = false) {
        self.defaultInterval = defaultInterval
        self.installing = installing
    }

    public func statuses(for desired: DesiredState, previous: [WorkspaceStatus], now: Date) -> [WorkspaceStatus] {
        desired.workspaces.map { workspace in
            var conditions = previous.first { $0.name == workspace.name }?.conditions ?? []
            conditions.set(
                Condition(
                    type: "Received", status: .true, reason: "SpecReceived",
                    message: "generation \(workspace.generation) received at revision \(desired.revision)",
                    lastTransitionTime: now))
            var componentState = installing ? "Pending" : "NotInstalled"
            var componentMessage =
                installing
                ? "waiting for the install pass"
                : "no Kubernetes API is configured (--kubeconfig, or run in a cluster); components are not installed"
            do throws(ValidationError) {
                // Compiling the rules checks templates and durations too, not just the schema.
                _ = try RuleEngine.compile(workspace, defaultInterval: defaultInterval)
                conditions.set(
                    Condition(
                        type: "Accepted", status: .true, reason: "Valid",
                        message: "\(workspace.components.count) component(s), \(ruleCount(workspace.rules)) alert rule(s)",
                        lastTransitionTime: now))
            } catch {
                conditions.set(
                    Condition(
                        type: "Accepted", status: .false, reason: "InvalidSpec", message: error.description,
                        lastTransitionTime: now))
                componentState = "Rejected"
                componentMessage = "workspace spec is invalid: \(error.description)"
            }
            return WorkspaceStatus(
                name: workspace.name,
                observedGeneration: workspace.generation,
                conditions: conditions,
                components: workspace.components.map { ComponentStatus(name: $0.name, state: componentState, message: componentMessage) }
            )
        }
    }

    func ruleCount(_ spec: WorkspaceSpec) -> Int { spec.ruleGroups.reduce(0) { $0 + $1.rules.count } }
}
