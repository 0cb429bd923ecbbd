import AlertTemplates
import Foundation
import SplitPlaneProtocol
import Testing

@testable import Agent

/// The alert state machine, step by step with explicit evaluation times (no clock, no sleeping).
@Suite struct RuleEvaluatorTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ minutes: Double) -> Date { t0.addingTimeInterval(minutes * 60) }

    func rule(for duration: String? = nil, keepFiringFor: String? = nil, labels: [String: String]? = nil) throws -> CompiledRule {
        try CompiledRule(
            AlertingRule(alert: "BackendDown", expr: "up == 0", for: duration, keepFiringFor: keepFiringFor, labels: labels),
            groupLabels: [:], field: "r")
    }

    let down = [QuerySample(labels: ["__name__": "up", "instance": "a", "job": "backend"], value: 0)]

    func only(_ state: [String: ActiveAlert]) throws -> ActiveAlert {
        #expect(state.count == 1)
        return try #require(state.values.first)
    }

    @Test func pendingUntilForElapsesThenFiring() async throws {
        let rule = try rule(for: "5m")
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        #expect(try only(state).state == .pending)
        #expect(try only(state).labels == ["alertname": "BackendDown", "instance": "a", "job": "backend"])
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(4), limit: 0, state: &state)
        #expect(try only(state).state == .pending)
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(5), limit: 0, state: &state)
        #expect(try only(state).state == .firing)
        #expect(try only(state).activeAt == at(0))
        #expect(try only(state).firedAt == at(5))
    }

    @Test func withoutForFiresOnFirstEvaluation() async throws {
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(try rule(), samples: down, at: at(0), limit: 0, state: &state)
        #expect(try only(state).state == .firing)
    }

    @Test func pendingAlertThatGoesAwayIsForgotten() async throws {
        let rule = try rule(for: "5m")
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(1), limit: 0, state: &state)
        #expect(state.isEmpty)
        // Coming back starts the `for` clock again.
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(2), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(6), limit: 0, state: &state)
        #expect(try only(state).state == .pending)
    }

    @Test func resolvedAlertIsKeptFifteenMinutesAndRefiresAsNew() async throws {
        let rule = try rule()
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(1), limit: 0, state: &state)
        #expect(try only(state).state == .inactive)
        #expect(try only(state).resolvedAt == at(1))
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(16), limit: 0, state: &state)
        #expect(try only(state).resolvedAt == at(1), "still retained at exactly 15 minutes")
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(16.5), limit: 0, state: &state)
        #expect(state.isEmpty)

        try await RuleEvaluator.evaluate(rule, samples: down, at: at(20), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(21), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(22), limit: 0, state: &state)
        let refired = try only(state)
        #expect(refired.state == .firing)
        #expect(refired.activeAt == at(22))
        #expect(refired.resolvedAt == nil)
    }

    @Test func keepFiringForHoldsAFiringAlert() async throws {
        let rule = try rule(keepFiringFor: "10m")
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(1), limit: 0, state: &state)
        #expect(try only(state).state == .firing)
        #expect(try only(state).keepFiringSince == at(1))
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(10.5), limit: 0, state: &state)
        #expect(try only(state).state == .firing)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(11), limit: 0, state: &state)
        #expect(try only(state).state == .inactive)
        #expect(try only(state).resolvedAt == at(11))
    }

    @Test func keepFiringForResetsWhenTheResultReturns() async throws {
        let rule = try rule(keepFiringFor: "10m")
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(5), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(6), limit: 0, state: &state)
        #expect(try only(state).keepFiringSince == nil)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(7), limit: 0, state: &state)
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(16), limit: 0, state: &state)
        #expect(try only(state).state == .firing, "the 10 minutes count from 7, not from 5")
    }

    @Test func duplicateLabelSetsAfterTemplatingAreAnErrorAndChangeNothing() async throws {
        // A static `instance` label collapses two series into one label set.
        let rule = try rule(labels: ["instance": "all"])
        var state: [String: ActiveAlert] = [:]
        let two = [QuerySample(labels: ["instance": "a"], value: 0), QuerySample(labels: ["instance": "b"], value: 0)]
        await #expect(throws: RuleEvaluator.Failure(message: "vector contains metrics with the same labelset after applying alert labels")) {
            try await RuleEvaluator.evaluate(rule, samples: two, at: at(0), limit: 0, state: &state)
        }
        #expect(state.isEmpty)
    }

    @Test func exceedingTheLimitIsAnErrorAndDropsTheRulesAlerts() async throws {
        let rule = try rule()
        var state: [String: ActiveAlert] = [:]
        let three = ["a", "b", "c"].map { QuerySample(labels: ["instance": $0], value: 0) }
        try await RuleEvaluator.evaluate(rule, samples: Array(three.prefix(2)), at: at(0), limit: 2, state: &state)
        #expect(state.count == 2)
        await #expect(throws: RuleEvaluator.Failure(message: "exceeded limit of 2 with 3 alerts")) {
            try await RuleEvaluator.evaluate(rule, samples: three, at: at(1), limit: 2, state: &state)
        }
        #expect(state.isEmpty)
    }

    @Test func emptyTemplatedLabelRemovesTheLabel() async throws {
        let rule = try rule(labels: ["job": "", "severity": "critical"])
        var state: [String: ActiveAlert] = [:]
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        #expect(try only(state).labels == ["alertname": "BackendDown", "instance": "a", "severity": "critical"])
    }

    @Test func sendingFollowsPrometheusResendRules() async throws {
        let rule = try rule(for: "1m")
        var state: [String: ActiveAlert] = [:]
        func send(_ minutes: Double) -> [AgentAlert] {
            RuleEvaluator.takeAlertsToSend(from: &state, workspace: "w", at: at(minutes), resendDelay: .seconds(60), interval: .seconds(30))
        }
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(0), limit: 0, state: &state)
        #expect(send(0).isEmpty, "pending alerts are not sent")
        try await RuleEvaluator.evaluate(rule, samples: down, at: at(1), limit: 0, state: &state)
        let fired = send(1)
        #expect(fired.map(\.state) == [.firing])
        #expect(fired.first?.startsAt == at(1))
        #expect(fired.first?.endsAt == at(5), "valid for four resend periods")
        #expect(send(1.5).isEmpty, "not again within the resend delay")
        #expect(send(2.5).count == 1, "re-sent after the resend delay")
        try await RuleEvaluator.evaluate(rule, samples: [], at: at(3), limit: 0, state: &state)
        let resolved = send(3)
        #expect(resolved.map(\.state) == [.resolved])
        #expect(resolved.first?.endsAt == at(3))
    }

    @Test func allowlistKeepsOnlyWhatMayLeave() {
        let alert = AgentAlert(
            workspace: "w", state: .firing, labels: ["alertname": "A", "instance": "10.0.0.1", "tenant": "x"],
            annotations: ["summary": "s", "runbook": "internal"], startsAt: t0)
        let defaults = AlertAllowlistFilter(nil).apply(alert)
        #expect(defaults.labels == ["alertname": "A", "instance": "10.0.0.1", "exported_tenant": "x"])
        #expect(defaults.annotations == ["summary": "s"])
        let strict = AlertAllowlistFilter(AlertAllowlist(labels: ["severity"], annotations: [])).apply(alert)
        #expect(strict.labels == ["alertname": "A"])
        #expect(strict.annotations.isEmpty)
    }

    @Test func alertStateSurvivesJSONWithNonFiniteValues() throws {
        var alert = ActiveAlert(labels: ["a": "b"], annotations: [:], state: .firing, value: .infinity, activeAt: t0)
        alert.firedAt = t0
        let decoded = try StrictJSON.decoder().decode(ActiveAlert.self, from: StrictJSON.encode(alert))
        #expect(decoded == alert)
    }
}

@Suite struct GroupScheduleTests {
    func group(interval: String, offset: String? = nil) throws -> CompiledRuleGroup {
        try CompiledRuleGroup(
            RuleGroup(name: "g", interval: interval, evalOffset: offset, rules: []), workspace: "w",
            defaultInterval: .seconds(60), field: "g")
    }

    @Test func evaluationInstantsAlignToTheInterval() throws {
        let noon = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z, on the hour
        #expect(try group(interval: "1m").alignedTime(atOrBefore: noon.addingTimeInterval(59)) == noon)
        #expect(try group(interval: "1h", offset: "5m").alignedTime(atOrBefore: noon.addingTimeInterval(4 * 60)) == noon.addingTimeInterval(-55 * 60))
        #expect(try group(interval: "1h", offset: "5m").alignedTime(atOrBefore: noon.addingTimeInterval(6 * 60)) == noon.addingTimeInterval(5 * 60))
    }

    @Test func offsetMustBeSmallerThanTheInterval() {
        #expect(throws: ValidationError.self) { try group(interval: "1m", offset: "2m") }
    }
}
