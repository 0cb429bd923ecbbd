import AlertTemplates
import Foundation
import Logging
import Metrics
import ServiceSupport
import SplitPlaneProtocol

/// Runs the alert rules of every accepted workspace against the environment's metrics store, one
/// scheduled runner per rule group, and reports how evaluation is going.
public actor RuleEngine {
    struct RunnerKey: Hashable { var workspace: String; var group: String }

    private struct Running {
        var runner: RuleGroupRunner
        var task: Task<Void, Never>
        /// What the runner was built from; an unchanged group keeps running (and its timing).
        var source: String
    }

    let store: MetricsStoreClient
    let outbox: AlertOutbox
    let stateStore: RuleStateStore
    let resendDelay: Duration
    let defaultInterval: Duration
    let clock: any TimeSource
    let logger: Logger
    let onHealthChange: @Sendable () async -> Void
    private var running: [RunnerKey: Running] = [:]
    private var health: [RunnerKey: RuleGroupRunner.GroupHealth] = [:]
    private var builtinState: [String: [String: ActiveAlert]] = [:]
    private let builtinRule: CompiledRule
    /// False for stepping by hand (`test-rules`, benchmarks): runners exist but only `evaluate(at:)` runs them.
    private let scheduled: Bool
    /// `$externalLabels` in templates (promtool test files set them).
    private let externalLabels: [String: String]
    let boundary: DataBoundary
    let reporter: BoundaryReporter

    public init(
        store: MetricsStoreClient, outbox: AlertOutbox, stateDirectory: URL, resendDelay: Duration, defaultInterval: Duration,
        clock: any TimeSource, logger: Logger, scheduled: Bool = true, externalLabels: [String: String] = [:],
        boundary: DataBoundary = .default, reporter: BoundaryReporter? = nil,
        onHealthChange: @escaping @Sendable () async -> Void
    ) throws {
        self.boundary = boundary
        self.reporter = reporter ?? BoundaryReporter(logger: logger)
        self.scheduled = scheduled
        self.externalLabels = externalLabels
        self.store = store
        self.outbox = outbox
        stateStore = try RuleStateStore(directory: stateDirectory)
        self.resendDelay = resendDelay
        self.defaultInterval = defaultInterval
        self.clock = clock
        self.logger = logger
        self.onHealthChange = onHealthChange
        builtinRule = try! CompiledRule(Self.storeUnreachableRule, groupLabels: [:], field: "builtin")
    }

    /// Raised when rule evaluation of a workspace cannot reach the metrics store for a minute.
    static let storeUnreachableRule = AlertingRule(
        alert: "QbeastMetricsStoreUnreachable", expr: "(built-in: metrics store queries failing)", for: "1m",
        labels: ["severity": "critical"],
        annotations: [
            "summary": "The Qbeast agent cannot query its metrics store",
            "description": "Alert rules of this workspace are not being evaluated; the workspace's RulesHealthy condition carries the store's error.",
        ]
    )

    /// Compiles every group of a workspace; throws the first validation or template error.
    public static func compile(_ workspace: DesiredWorkspace, defaultInterval: Duration) throws(ValidationError) -> [CompiledRuleGroup] {
        try workspace.rules.validate()
        var groups: [CompiledRuleGroup] = []
        for (index, group) in workspace.rules.ruleGroups.enumerated() {
            groups.append(try CompiledRuleGroup(group, workspace: workspace.name, defaultInterval: defaultInterval, field: "spec.ruleGroups[\(index)]"))
        }
        return groups
    }

    /// Brings the running groups in line with `desired`: new groups start, changed ones restart
    /// (keeping the state of unchanged rules), removed ones stop and forget their state.
    public func update(_ desired: DesiredState) {
        var wanted: [RunnerKey: (CompiledRuleGroup, AlertAllowlistFilter, String)] = [:]
        let limits = desired.alertLimits ?? .default
        let limitsSource = (try? StrictJSON.encode(limits)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        for workspace in desired.workspaces {
            guard let groups = try? Self.compile(workspace, defaultInterval: defaultInterval) else { continue }
            let filter = AlertAllowlistFilter(workspace.rules.alertAllowlist, limits: limits)
            for (index, group) in groups.enumerated() {
                let source = (try? StrictJSON.encode(workspace.rules.ruleGroups[index])).map { String(decoding: $0, as: UTF8.self) } ?? ""
                let allowlist = (try? StrictJSON.encode(workspace.rules.alertAllowlist)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                wanted[RunnerKey(workspace: workspace.name, group: group.name)] = (group, filter, source + allowlist + limitsSource)
            }
        }
        for (key, current) in running where wanted[key]?.2 != current.source {
            current.task.cancel()
            running[key] = nil
            health[key] = nil
            if wanted[key] == nil { stateStore.remove(workspace: key.workspace, group: key.group) }
        }
        for (key, (group, filter, source)) in wanted where running[key] == nil {
            let runner = RuleGroupRunner(
                group: group, store: store, outbox: outbox, stateStore: stateStore, filter: filter,
                resendDelay: resendDelay, clock: clock, logger: logger, externalLabels: externalLabels,
                boundary: boundary, reporter: reporter)
            // The task holds the engine until `stop()` or `update` cancels it.
            let task = Task {
                guard self.scheduled else { return }
                await runner.run { health in await self.roundFinished(key, health) }
            }
            running[key] = Running(runner: runner, task: task, source: source)
        }
        let workspaces = Set(desired.workspaces.map(\.name))
        builtinState = builtinState.filter { workspaces.contains($0.key) }
        Gauge(label: "qbeast_agent_rule_groups").record(running.count)
    }

    /// One round of every group at `time`, in workspace and group order, outside the schedule.
    public func evaluate(at time: Date) async {
        for key in running.keys.sorted(by: { ($0.workspace, $0.group) < ($1.workspace, $1.group) }) {
            guard let runner = running[key]?.runner else { continue }
            await runner.evaluate(at: time)
            await roundFinished(key, await runner.health)
        }
    }

    public func stop() {
        for current in running.values { current.task.cancel() }
        running = [:]
    }

    public var rulesLoaded: Int { running.values.reduce(0) { $0 + $1.runner.group.rules.count } }

    /// nil until a round has run; false while any group's last round could not reach the store.
    public var metricsStoreReachable: Bool? {
        health.isEmpty ? nil : health.values.allSatisfy { $0.storeError == nil }
    }

    /// The `RulesHealthy` condition of a workspace, or nil when it has no rules running.
    public func condition(workspace: String, now: Date) -> Condition? {
        let groups = running.keys.filter { $0.workspace == workspace }
        guard !groups.isEmpty else { return nil }
        let rules = groups.reduce(0) { $0 + (running[$1]?.runner.group.rules.count ?? 0) }
        let states = groups.compactMap { health[$0] }
        if states.isEmpty {
            return Condition(
                type: "RulesHealthy", status: .unknown, reason: "NotEvaluatedYet",
                message: "\(rules) rule(s) in \(groups.count) group(s) waiting for their first round", lastTransitionTime: now)
        }
        if let storeError = states.compactMap(\.storeError).sorted().first {
            return Condition(
                type: "RulesHealthy", status: .false, reason: "MetricsStoreUnreachable",
                message: "\(storeError) (the store's own words are in the agent's log)", lastTransitionTime: now)
        }
        let failures = states.flatMap { $0.ruleErrors.map { "\($0.key): \($0.value)" } }.sorted()
        if let first = failures.first {
            let more = failures.count > 1 ? " (and \(failures.count - 1) more)" : ""
            return Condition(type: "RulesHealthy", status: .false, reason: "RuleEvaluationFailed", message: first + more, lastTransitionTime: now)
        }
        return Condition(
            type: "RulesHealthy", status: .true, reason: "Evaluating",
            message: "\(rules) rule(s) in \(groups.count) group(s) evaluated without error", lastTransitionTime: now)
    }

    /// Current alert state of a workspace's rules (for tests and debugging).
    public func alerts(workspace: String) async -> [ActiveAlert] {
        var result: [ActiveAlert] = []
        for (key, current) in running where key.workspace == workspace {
            result += await current.runner.alerts.values.flatMap { $0.values }
        }
        return result
    }

    private func roundFinished(_ key: RunnerKey, _ groupHealth: RuleGroupRunner.GroupHealth) async {
        guard running[key] != nil else { return }
        let changed = health[key] != groupHealth
        health[key] = groupHealth
        await evaluateBuiltin(workspace: key.workspace, at: groupHealth.lastEvaluation ?? clock.now())
        if changed { await onHealthChange() }
    }

    /// The built-in store-unreachable alert goes through the same state machine as user rules.
    private func evaluateBuiltin(workspace: String, at time: Date) async {
        let failing = health.contains { $0.key.workspace == workspace && $0.value.storeError != nil }
        var state = builtinState[workspace] ?? stateStore.load(workspace: workspace, group: "__builtin__")[builtinRule.key] ?? [:]
        try? await RuleEvaluator.evaluate(builtinRule, samples: failing ? [QuerySample(labels: [:], value: 1)] : [], at: time, limit: 0, state: &state)
        let alerts = RuleEvaluator.takeAlertsToSend(from: &state, workspace: workspace, at: time, resendDelay: resendDelay, interval: defaultInterval)
        builtinState[workspace] = state
        do {
            if !alerts.isEmpty { try await outbox.enqueue(alerts) }
            try stateStore.save([builtinRule.key: state], workspace: workspace, group: "__builtin__")
        } catch {
            logger.error("cannot persist built-in alert state", metadata: ["error": "\(error)"])
        }
    }
}
