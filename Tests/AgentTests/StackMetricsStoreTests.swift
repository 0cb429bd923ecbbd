import Controller
import Foundation
import SplitPlaneProtocol
import Testing

@testable import Agent

/// Without `--metrics-store-url`, an agent in a cluster evaluates its rules against the observability
/// stack's VictoriaMetrics, and only while the stack is desired (an explicit URL always wins: `AgentService`).
@Suite struct StackMetricsStoreTests {
    static let rules = [RuleGroup(name: "g", rules: [AlertingRule(alert: "Down", expr: "up == 0")])]

    static func desired(stack: Bool) -> DesiredState {
        var workspaces = [DesiredWorkspace(name: "analytics", generation: 1, ruleGroups: rules)]
        if stack { workspaces.append(DesiredWorkspace(name: EnvironmentRequest.observabilityWorkspace, generation: 1)) }
        return DesiredState(tenant: "acme", environment: "prod", revision: 1, workspaces: workspaces)
    }

    @Test func theAddressIsTheServiceTheControllerGenerates() {
        #expect(StackMetricsStore.url(namespace: "team-a") == ObservabilityStack.victoriaMetricsURL(namespace: "team-a"))
    }

    @Test func rulesRunOnlyWhileTheStackIsDesired() {
        #expect(StackMetricsStore.ruleView(of: Self.desired(stack: false)).workspaces.allSatisfy { $0.ruleGroups.isEmpty })
        #expect(StackMetricsStore.ruleView(of: Self.desired(stack: true)).workspaces.first?.ruleGroups == Self.rules)
    }
}
