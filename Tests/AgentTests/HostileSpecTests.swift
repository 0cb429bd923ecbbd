import Foundation
import SplitPlaneProtocol
import Testing

@testable import Agent

/// What reaches an agent is checked there too: a spec the controller would refuse (or one from a
/// controller that does not check) is `Accepted: False`, never a crash; alerts are made to fit.
struct HostileSpecTests {
    @Test func aDeeplyNestedTemplateIsNotAcceptedAndDoesNotCrashTheAgent() {
        let attack = String(repeating: "{{if 1}}", count: 10_000) + "x" + String(repeating: "{{end}}", count: 10_000)
        let nested = String(repeating: "{{with 1}}", count: 100) + "x" + String(repeating: "{{end}}", count: 100)
        for annotation in [attack, nested] {
            let workspace = DesiredWorkspace(
                name: "analytics", generation: 3,
                ruleGroups: [
                    RuleGroup(name: "g", rules: [AlertingRule(alert: "X", expr: "up == 0", annotations: ["summary": annotation])])
                ])
            let desired = DesiredState(tenant: "acme", environment: "prod", revision: 1, workspaces: [workspace])
            let status = WorkspaceStatusBuilder().statuses(for: desired, previous: [], now: Date())
            let accepted = status.first?.conditions.first { $0.type == "Accepted" }
            #expect(accepted?.status == .false)
            #expect(accepted?.message.contains("annotations.summary: template: summary:") == true, "\(accepted?.message.prefix(200) ?? "")")
        }
    }

    @Test func alertsAreTrimmedToTheControllersLimitsBeforeSending() {
        var limits = AlertLimits.default
        limits.maxLabels = 4
        limits.maxAnnotationLength = 100
        let filter = AlertAllowlistFilter(nil, limits: limits)
        let labels = ["alertname": "Big", "severity": "critical", "a": "1", "b": "2", "c": "3", "d": "4"]
        let alert = AgentAlert(
            workspace: "w", state: .firing, labels: labels, annotations: ["summary": String(repeating: "é", count: 200)],
            startsAt: Date())
        let sent = filter.apply(alert)
        #expect(sent.labels == ["alertname": "Big", "severity": "critical", "a": "1", "b": "2"])
        #expect(sent.annotations["summary"]?.utf8.count ?? 0 <= 100)
        #expect(sent.annotations["summary"]?.hasSuffix("…") == true)
        #expect(throws: Never.self) { try limits.check(sent, field: "alert") }
    }
}
