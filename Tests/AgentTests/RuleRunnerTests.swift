import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// Rule groups evaluated against a real VictoriaMetrics, with the clock under the test's control.
@Suite(.serialized) struct RuleRunnerTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_020)
    let logger = Logger(label: "test")

    func group(_ rules: [AlertingRule], interval: String = "1m") throws -> CompiledRuleGroup {
        try CompiledRuleGroup(
            RuleGroup(name: "backend", interval: interval, rules: rules), workspace: "analytics",
            defaultInterval: .seconds(60), field: "g")
    }

    /// `up{instance="a"}` is 0 (down) every 30 s for 30 minutes from t0.
    func downSeries() -> [String] {
        let ms = Int64(t0.timeIntervalSince1970 * 1000)
        return (0..<60).map { #"up{job="backend",instance="a"} 0 \#(ms + Int64($0) * 30_000)"# }
    }

    @Test func restartMidForAndWhileFiringKeepsProgressAndSendsNothingTwice() async throws {
        let vm = try await TestVictoriaMetrics.start()
        let directory = try TemporaryDirectory()
        defer { vm.stop(); directory.remove() }
        try await vm.importPrometheus(downSeries())
        let store = MetricsStoreClient(baseURL: vm.url)
        let outbox = try AlertOutbox(directory: directory.url.appendingPathComponent("outbox"), instance: "i", maxBatches: 100, logger: logger)
        let stateStore = try RuleStateStore(directory: directory.url.appendingPathComponent("rules"))
        let rules = try group([
            AlertingRule(
                alert: "BackendDown", expr: #"up{job="backend"} == 0"#, for: "5m",
                labels: ["severity": "critical"], annotations: ["summary": "backend down"])
        ])
        func runner() -> RuleGroupRunner {
            RuleGroupRunner(
                group: rules, store: store, outbox: outbox, stateStore: stateStore, filter: AlertAllowlistFilter(nil),
                resendDelay: .seconds(60), clock: ManualTimeSource(now: t0), logger: logger)
        }
        func minute(_ m: Double) -> Date { t0.addingTimeInterval(m * 60) }

        var first: RuleGroupRunner? = runner()
        for m in [1.0, 2, 3] { await first!.evaluate(at: minute(m)) }
        #expect(await first!.alerts.values.flatMap(\.values).map(\.state) == [.pending])
        first = nil  // the process dies mid-`for`; its state is already on disk

        let second = runner()
        #expect(await second.alerts.values.flatMap(\.values).first?.activeAt == minute(1), "for progress survived")
        await second.evaluate(at: minute(6))
        #expect(await second.alerts.values.flatMap(\.values).map(\.state) == [.firing])
        #expect(await outbox.count == 1)
        let sent = try #require(try await outbox.head())
        #expect(sent.alerts.map(\.labels) == [["alertname": "BackendDown", "instance": "a", "job": "backend", "severity": "critical"]])
        #expect(sent.alerts.first?.startsAt == minute(6))

        let third = runner()  // dies and comes back while firing
        await third.evaluate(at: minute(6.5))
        #expect(await third.alerts.values.flatMap(\.values).map(\.state) == [.firing])
        #expect(await outbox.count == 1, "no second notification after the restart")
        await third.evaluate(at: minute(7.5))
        #expect(await outbox.count == 2, "the regular resend after the resend delay")
        let resent = try await outbox.head()
        #expect(resent?.sequence == 1)
    }

    @Test func templatesAndGroupLabelsShapeTheAlert() async throws {
        let vm = try await TestVictoriaMetrics.start()
        let directory = try TemporaryDirectory()
        defer { vm.stop(); directory.remove() }
        try await vm.importPrometheus(downSeries())
        let store = MetricsStoreClient(baseURL: vm.url)
        let outbox = try AlertOutbox(directory: directory.url.appendingPathComponent("outbox"), instance: "i", maxBatches: 100, logger: logger)
        let compiled = try CompiledRuleGroup(
            RuleGroup(
                name: "g", interval: "1m", labels: ["team": "data"],
                rules: [
                    AlertingRule(
                        alert: "Down", expr: #"up == 0"#, labels: ["severity": "warning"],
                        annotations: ["summary": "{{ $labels.instance }} of {{ $labels.job }} is down", "internal": "x"])
                ]), workspace: "analytics", defaultInterval: .seconds(60), field: "g")
        let runner = RuleGroupRunner(
            group: compiled, store: store, outbox: outbox,
            stateStore: try RuleStateStore(directory: directory.url.appendingPathComponent("rules")),
            filter: AlertAllowlistFilter(nil), resendDelay: .seconds(60), clock: ManualTimeSource(now: t0), logger: logger)
        await runner.evaluate(at: t0.addingTimeInterval(60))
        let alert = try #require(try await outbox.head()?.alerts.first)
        #expect(alert.labels["team"] == "data")
        #expect(alert.labels["severity"] == "warning")
        #expect(alert.annotations.keys.sorted() == ["summary"], "non-allowlisted annotations stay in the environment")
    }

    @Test func unreachableStoreLeavesRulesAloneAndRaisesTheBuiltInAlert() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualTimeSource(now: t0)
        let outbox = try AlertOutbox(directory: directory.url.appendingPathComponent("outbox"), instance: "i", maxBatches: 100, logger: logger)
        let engine = try RuleEngine(
            store: MetricsStoreClient(baseURL: "http://127.0.0.1:\(try freeLoopbackPort())"), outbox: outbox,
            stateDirectory: directory.url.appendingPathComponent("rules"), resendDelay: .seconds(60),
            defaultInterval: .seconds(60), clock: clock, logger: logger, onHealthChange: {})
        let spec = WorkspaceSpec(ruleGroups: [RuleGroup(name: "g", interval: "1m", rules: [AlertingRule(alert: "Down", expr: "up == 0")])])
        await engine.update(
            DesiredState(
                tenant: "acme", environment: "prod", revision: 1,
                workspaces: [
                    DesiredWorkspace(name: "analytics", generation: 1, ruleGroups: spec.ruleGroups)
                ]))
        #expect(await engine.rulesLoaded == 1)
        #expect(await engine.condition(workspace: "analytics", now: t0)?.reason == "NotEvaluatedYet")

        for round in 1...2 {
            try await eventually("runner waiting") { clock.sleeperCount == 1 }
            clock.advance(by: .seconds(60))
            try await eventually("round \(round) done") { await engine.metricsStoreReachable == false && clock.sleeperCount == 1 }
        }
        let condition = try #require(await engine.condition(workspace: "analytics", now: clock.now()))
        #expect(condition.status == .false)
        #expect(condition.reason == "MetricsStoreUnreachable")
        #expect(condition.message.contains("metrics store unreachable"))
        let batch = try #require(try await outbox.head())
        #expect(batch.alerts.map { $0.labels["alertname"] } == ["QbeastMetricsStoreUnreachable"])
        #expect(batch.alerts.first?.state == .firing)
        #expect(await engine.alerts(workspace: "analytics").isEmpty, "no user alert fired or resolved on missing data")
        await engine.stop()
    }
}

/// A rule whose query starts failing stops sending, as in Prometheus and vmalert: its firing alert is
/// not refreshed and expires at the `endsAt` it was last sent with; the error stays visible.
@Suite(.serialized) struct FailingRuleTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_020)
    let logger = Logger(label: "test")

    @Test func aFiringRuleWhoseQueryStartsFailingIsNoLongerSent() async throws {
        let vm = try await TestVictoriaMetrics.start()
        let directory = try TemporaryDirectory()
        defer { vm.stop(); directory.remove() }
        let ms = Int64(t0.timeIntervalSince1970 * 1000)
        // One `info` series per job until minute 7, then a second one for the same job: from then on the
        // one-to-one match is ambiguous and the store refuses the query ("duplicate time series").
        var lines = (0..<40).map { #"up{job="backend",instance="a"} 0 \#(ms + Int64($0) * 30_000)"# }
        lines += (0..<40).map { #"info{job="backend",team="data"} 1 \#(ms + Int64($0) * 30_000)"# }
        lines += (14..<40).map { #"info{job="backend",team="other"} 1 \#(ms + Int64($0) * 30_000)"# }
        try await vm.importPrometheus(lines)
        let outbox = try AlertOutbox(directory: directory.url.appendingPathComponent("outbox"), instance: "i", maxBatches: 100, logger: logger)
        let rules = try CompiledRuleGroup(
            RuleGroup(
                name: "g", interval: "1m",
                rules: [
                    AlertingRule(alert: "BackendDown", expr: #"(up{job="backend"} == 0) * on(job) info"#, labels: ["severity": "critical"])
                ]), workspace: "analytics", defaultInterval: .seconds(60), field: "g")
        let runner = RuleGroupRunner(
            group: rules, store: MetricsStoreClient(baseURL: vm.url), outbox: outbox,
            stateStore: try RuleStateStore(directory: directory.url.appendingPathComponent("rules")),
            filter: AlertAllowlistFilter(nil), resendDelay: .seconds(60), clock: ManualTimeSource(now: t0), logger: logger)
        func minute(_ m: Double) -> Date { t0.addingTimeInterval(m * 60) }

        await runner.evaluate(at: minute(2))
        await runner.evaluate(at: minute(4))
        #expect(await outbox.count == 2, "fired at 2, re-sent at 4")
        #expect(await runner.health.ruleErrors.isEmpty)

        for m in [8.0, 10, 12, 14] { await runner.evaluate(at: minute(m)) }
        let health = await runner.health
        #expect(health.ruleErrors["BackendDown"] != nil, "the error stays visible")
        #expect(health.storeError == nil, "a failing query is not an unreachable store")
        #expect(await outbox.count == 2, "nothing re-sent while the query fails")
        #expect(await runner.alerts.values.flatMap(\.values).map(\.state) == [.firing], "the state itself is kept for when it recovers")
    }
}
