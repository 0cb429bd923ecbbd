import AlertTemplates
import Dispatch
import Foundation
import Logging
import Metrics
import ServiceSupport
import SplitPlaneProtocol

/// Evaluates one rule group at its aligned interval, keeps and persists its alert state, and hands
/// alerts due for sending to the outbox.
actor RuleGroupRunner {
    let group: CompiledRuleGroup
    let store: MetricsStoreClient
    let outbox: AlertOutbox
    let stateStore: RuleStateStore
    let filter: AlertAllowlistFilter
    let resendDelay: Duration
    let clock: any TimeSource
    let logger: Logger
    let externalLabels: [String: String]
    /// The customer's ceiling, applied after the workspace allowlist.
    let boundary: DataBoundary
    let reporter: BoundaryReporter
    private var state: RuleStateStore.GroupState
    private(set) var health = GroupHealth()

    struct GroupHealth: Sendable, Equatable {
        var lastEvaluation: Date?
        /// Rule name → the kind of its last error, for rules whose last evaluation failed. Only the kind:
        /// a metrics store's message can quote label values of the customer's series, and this goes upstream.
        var ruleErrors: [String: String] = [:]
        var storeError: String?
    }
    /// Rule name → the store's full error text, kept in the agent's own log only.
    private var errorDetails: [String: String] = [:]

    init(
        group: CompiledRuleGroup, store: MetricsStoreClient, outbox: AlertOutbox, stateStore: RuleStateStore,
        filter: AlertAllowlistFilter, resendDelay: Duration, clock: any TimeSource, logger: Logger,
        externalLabels: [String: String] = [:], boundary: DataBoundary = .default, reporter: BoundaryReporter? = nil
    ) {
        self.externalLabels = externalLabels
        self.boundary = boundary
        self.reporter = reporter ?? BoundaryReporter(logger: logger)
        self.group = group
        self.store = store
        self.outbox = outbox
        self.stateStore = stateStore
        self.filter = filter
        self.resendDelay = resendDelay
        self.clock = clock
        self.logger = logger
        // State of rules that no longer exist is dropped; rules that are unchanged keep theirs.
        let keys = Set(group.rules.map(\.key))
        state = stateStore.load(workspace: group.workspace, group: group.name).filter { keys.contains($0.key) }
    }

    /// Evaluates at every aligned instant until cancelled; `onRound` is told after each round.
    func run(onRound: @escaping @Sendable (GroupHealth) async -> Void) async {
        var next = group.alignedTime(atOrBefore: clock.now())
        // A round that was due while the agent was down is not replayed; the next aligned one runs.
        if next < clock.now() { next = next.addingTimeInterval(group.interval.timeInterval) }
        while !Task.isCancelled {
            let wait = next.timeIntervalSince(clock.now())
            if wait > 0 {
                do { try await clock.sleep(for: .milliseconds(Int64(wait * 1000))) } catch { return }
            }
            await evaluate(at: next)
            await onRound(health)
            next = next.addingTimeInterval(group.interval.timeInterval)
            // When a round took longer than the interval, skip missed instants rather than pile up.
            let now = clock.now()
            if next < now { next = group.alignedTime(atOrBefore: now).addingTimeInterval(group.interval.timeInterval) }
        }
    }

    /// One evaluation round at `time`: every rule (up to `concurrency` at once), then sending, then persisting.
    func evaluate(at time: Date) async {
        let started = DispatchTime.now()
        var errors: [String: String] = [:]
        var details: [String: String] = [:]
        var storeError: String?
        /// Rules whose query or evaluation failed this round for a reason of their own: like Prometheus
        /// and vmalert, they send nothing, so a firing alert expires at its `endsAt` unless the rule recovers.
        var silenced: Set<String> = []
        let results = await Self.queryAll(group.rules.map(\.expression), at: time, store: store, concurrency: group.concurrency)
        let store = self.store
        // Prometheus' `query` template function reads any series: only when the customer's boundary allows it.
        let reader: @Sendable (String) async throws -> [QuerySample] = { try await store.query($0, at: time) }
        let query = boundary.allowQueryFunction ? reader : nil
        for (index, rule) in group.rules.enumerated() {
            switch results[index] {
            case .failure(let error):
                // No data is not "no alert": the rule's state stays exactly as it was. An unreachable store
                // keeps alerts alive (and raises QbeastMetricsStoreUnreachable); a failing query does not.
                errors[rule.name] = error.kind
                details[rule.name] = error.description
                if error.isStoreProblem { storeError = error.kind } else { silenced.insert(rule.key) }
            case .success(let samples):
                var ruleState = state[rule.key] ?? [:]
                do {
                    try await RuleEvaluator.evaluate(
                        rule, samples: samples, at: time, limit: group.limit, state: &ruleState,
                        externalLabels: externalLabels, query: query, templateLabels: boundary.templateLabels)
                } catch {
                    errors[rule.name] = error.message
                    details[rule.name] = error.message
                    silenced.insert(rule.key)
                }
                state[rule.key] = ruleState.isEmpty ? nil : ruleState
            }
        }
        await send(at: time, skipping: silenced)
        for (name, detail) in details.sorted(by: { $0.key < $1.key }) where errorDetails[name] != detail {
            logger.warning(
                "alert rule failed", metadata: ["workspace": "\(group.workspace)", "group": "\(group.name)", "rule": "\(name)", "error": "\(detail)"])
        }
        errorDetails = details
        health = GroupHealth(lastEvaluation: time, ruleErrors: errors, storeError: storeError)
        Timer(label: "qbeast_agent_rule_group_duration_seconds", dimensions: [("workspace", group.workspace)])
            .recordInterval(since: started)
        if !errors.isEmpty {
            Counter(label: "qbeast_agent_rule_evaluation_failures_total", dimensions: [("workspace", group.workspace)]).increment(by: errors.count)
        }
    }

    /// Runs every expression with at most `concurrency` queries in flight; results in rule order.
    static func queryAll(
        _ expressions: [String], at time: Date, store: MetricsStoreClient,
        concurrency: Int
    ) async -> [Result<[QuerySample], MetricsStoreError>] {
        var results = [Result<[QuerySample], MetricsStoreError>](repeating: .success([]), count: expressions.count)
        await withTaskGroup(of: (Int, Result<[QuerySample], MetricsStoreError>).self) { tasks in
            var next = 0
            while next < expressions.count {
                if next >= concurrency, let (index, result) = await tasks.next() { results[index] = result }
                let index = next, expression = expressions[index]
                tasks.addTask {
                    // Untyped catch on purpose: a typed-throws `do` in this task closure miscompiled in release builds.
                    do {
                        return (index, .success(try await store.query(expression, at: time)))
                    } catch let error as MetricsStoreError {
                        return (index, .failure(error))
                    } catch {
                        return (index, .failure(.badResponse("\(error)")))
                    }
                }
                next += 1
            }
            while let (index, result) = await tasks.next() { results[index] = result }
        }
        return results
    }

    /// Alerts go to the outbox before the state that says they were sent is written: a crash in
    /// between re-sends (harmless, the controller de-duplicates) rather than loses.
    private func send(at time: Date, skipping silenced: Set<String>) async {
        var alerts: [AgentAlert] = []
        var violations: [BoundaryViolation] = []
        let constantLabels = Dictionary(group.rules.map { ($0.key, $0.constantLabelNames) }) { $1 }
        for key in state.keys.sorted() where !silenced.contains(key) {
            var ruleState = state[key]!
            for alert in RuleEvaluator.takeAlertsToSend(
                from: &ruleState, workspace: group.workspace, at: time,
                resendDelay: resendDelay, interval: group.interval)
            {
                // The workspace allowlist (Qbeast's) first, then the customer's ceiling over it.
                let bounded = boundary.apply(filter.apply(alert), ruleLabels: constantLabels[key] ?? [])
                alerts.append(bounded.alert)
                violations += bounded.violations
            }
            state[key] = ruleState
        }
        await reporter.report(violations)
        do {
            let perBatch = filter.limits.maxAlertsPerBatch
            for chunk in stride(from: 0, to: alerts.count, by: perBatch) {
                try await outbox.enqueue(Array(alerts[chunk..<min(chunk + perBatch, alerts.count)]))
            }
            try stateStore.save(state, workspace: group.workspace, group: group.name)
        } catch {
            logger.error("cannot persist alert state", metadata: ["group": "\(group.name)", "error": "\(error)"])
        }
    }

    /// Current alerts of every rule, for tests and status.
    var alerts: [String: [String: ActiveAlert]] { state }
}
