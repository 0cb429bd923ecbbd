import Foundation
import KubernetesAPI
import Logging
import Metrics
import ServiceLifecycle
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import Synchronization
import X509

/// The agent's main loops: follow the desired state (long poll), report status (on change and as a
/// heartbeat), and drain the alert outbox. Each loop retries with jittered backoff on its own, so a
/// controller outage delays them but loses nothing.
public final class AgentService: Service, Sendable {
    public let configuration: AgentConfiguration
    public let outbox: AlertOutbox
    public let readiness: Readiness
    public let client: ControllerClient
    /// Every message sent upstream, recorded in the state directory (the customer's namespace).
    public let journal: EgressJournal
    let state: AgentState
    let clock: any TimeSource
    let logger: Logger
    let random: @Sendable () -> Double
    /// Nil when no metrics store is configured: rules are then validated but not evaluated.
    public let rules: RuleEngine?
    /// The rules use the observability stack's VictoriaMetrics (no `--metrics-store-url`): they run only
    /// while the desired state has the stack.
    let rulesFollowStack: Bool
    /// Nil when no Kubernetes API is configured: components are then not installed, and the status says so.
    public let installer: ComponentInstaller?
    let kubernetes: KubernetesClient?
    /// Kubernetes Events for the customer's operators (nil without a Kubernetes API).
    public let events: EventRecorder?
    /// The certificate files in use; renewal moves them forward.
    let credentials: Mutex<TLSFiles>

    public init(
        configuration: AgentConfiguration, readiness: Readiness = Readiness(), clock: any TimeSource = SystemTimeSource(),
        logger: Logger, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) throws {
        self.configuration = configuration
        self.readiness = readiness
        self.clock = clock
        self.logger = logger
        self.random = random
        let directory = URL(fileURLWithPath: configuration.stateDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let instance = try Self.instanceID(in: directory)
        outbox = try AlertOutbox(
            directory: directory.appendingPathComponent("outbox"), instance: instance,
            maxBatches: configuration.outboxMaxBatches, logger: logger)
        let state = AgentState(instance: instance)
        self.state = state
        journal = try EgressJournal(
            directory: directory.appendingPathComponent("egress"), includeBodies: configuration.egressJournal.includeBodies,
            maxFileBytes: configuration.egressJournal.maxFileBytes, logger: logger, now: { clock.now() })
        client = try ControllerClient(configuration: configuration, journal: journal)
        credentials = Mutex(configuration.tls)
        let kubernetes = try configuration.kubernetes.map { try KubernetesClient(connection: $0) }
        self.kubernetes = kubernetes
        let regarding = configuration.eventsRegarding
        let events = kubernetes.map {
            EventRecorder(client: $0, namespace: $0.connection.namespace, reportingInstance: regarding.name, clock: clock, logger: logger)
        }
        self.events = events
        let reporter = BoundaryReporter(logger: logger) { violation in
            await events?.record(
                KubernetesEvent(
                    type: .warning, reason: "BoundaryDropped", action: "Filter",
                    note: "workspace \(violation.workspace), rule \(violation.rule): \(violation.field) kept back (\(violation.reason.rawValue))",
                    regarding: regarding))
        }
        // An explicit metrics store wins; otherwise, in a cluster, the environment's own VictoriaMetrics,
        // used only while the desired state has the observability stack.
        let stackURL = configuration.kubernetes.map { StackMetricsStore.url(namespace: $0.namespace) }
        rulesFollowStack = configuration.metricsStoreURL == nil && stackURL != nil
        if let url = configuration.metricsStoreURL ?? stackURL {
            rules = try RuleEngine(
                store: MetricsStoreClient(baseURL: url, step: configuration.metricsStoreStep), outbox: outbox,
                stateDirectory: directory.appendingPathComponent("rules"), resendDelay: configuration.ruleResendDelay,
                defaultInterval: configuration.defaultEvaluationInterval, clock: clock, logger: logger,
                boundary: configuration.boundary, reporter: reporter,
                onHealthChange: { await state.markChanged() })
        } else {
            rules = nil
        }
        if let kubernetes {
            installer = try ComponentInstaller(
                client: kubernetes, source: client, stateDirectory: directory, settings: configuration.install,
                supportAccess: configuration.supportAccess, clock: clock, logger: logger)
        } else {
            installer = nil
        }
        readiness.set("desired-state", problem: "no desired state received from the controller yet")
    }

    /// The current desired state, as last received (nil before the first answer).
    public var desired: DesiredState? { get async { await state.desired } }
    public var reportedStatuses: [WorkspaceStatus] { get async { await state.statuses } }

    /// Records an Event on the agent's own object, when the agent talks to Kubernetes (a no-op otherwise).
    public func event(_ type: KubernetesEvent.EventType, _ reason: String, _ action: String, _ note: String) async {
        await events?.record(KubernetesEvent(type: type, reason: reason, action: action, note: note, regarding: configuration.eventsRegarding))
    }

    public func run() async throws {
        if let installer, events != nil {
            await installer.onEvent { event in await self.events?.record(event.kubernetesEvent(agent: self.configuration.eventsRegarding)) }
        }
        logger.info("agent starting", metadata: ["controller": "\(configuration.controllerURLs.joined(separator: ","))", "instance": "\(outbox.instance)"])
        // Graceful shutdown cancels the loops; everything they own is already on disk.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.followDesiredState() }
                group.addTask { await self.reportStatus() }
                group.addTask { await self.deliverAlerts() }
                if self.configuration.renewCertificates { group.addTask { await self.renewCertificates() } }
                if self.installer != nil { group.addTask { await self.installComponents() } }
            }
        }
        await rules?.stop()
        try? await kubernetes?.shutdown()
        try? await client.shutdown()
        logger.info("agent stopped")
    }

    // MARK: Desired state

    func followDesiredState() async {
        var failures = 0
        /// The connection was lost (no answer at all, not an error answer): an Event when it is, and when it is back.
        var lost = false
        while !Task.isCancelled {
            do {
                let after = await state.desired?.revision ?? 0
                let desired = try await client.desiredState(after: after, timeout: configuration.pollTimeout)
                if lost { await event(.normal, "ControllerReachable", "Connect", "the controller answers again") }
                lost = false
                failures = 0
                let first = await state.desired == nil
                // Every answer, even an unchanged one at the poll's timeout, carries the current bundle.
                if let bundle = desired.trustBundle { adoptTrustBundle(bundle) }
                if desired.revision != after || first {
                    let statuses = WorkspaceStatusBuilder(defaultInterval: configuration.defaultEvaluationInterval, installing: installer != nil)
                        .statuses(for: desired, previous: await state.statuses, now: clock.now())
                    await rules?.update(rulesFollowStack ? StackMetricsStore.ruleView(of: desired) : desired)
                    await state.update(desired: desired, statuses: statuses)
                    Gauge(label: "qbeast_agent_desired_revision").record(desired.revision)
                    logger.info(
                        "desired state received",
                        metadata: [
                            "revision": "\(desired.revision)", "workspaces": "\(desired.workspaces.map(\.name).joined(separator: ","))",
                        ])
                    readiness.set("desired-state", problem: nil)
                }
            } catch {
                if Task.isCancelled { return }
                if !lost, (error as? ControllerClientError).map({ if case .proxy = $0 { true } else { false } }) ?? true {
                    lost = true
                    await event(.warning, "ControllerUnreachable", "Connect", "cannot reach the controller; retrying with backoff (alerts wait in the outbox)")
                }
                await retryPause(&failures, "desired-state long poll", error)
            }
        }
    }

    // MARK: Components

    /// Install passes: on each new desired state, when a retry or drift re-apply is due, and at least
    /// every `installInterval` to read health back.
    func installComponents() async {
        guard let installer else { return }
        var revision: Int64 = -1
        while !Task.isCancelled {
            if let desired = await state.desired {
                revision = desired.revision
                await installer.reconcile(desired.workspaces)
                await state.markChanged()
            }
            var wait = configuration.installInterval
            if let due = await installer.nextDue() {
                wait = min(wait, .milliseconds(max(0, Int(due.timeIntervalSince(clock.now()) * 1000))))
            }
            await state.waitForDesired(after: revision, timeout: wait, clock: clock)
        }
    }

    // MARK: Status

    func reportStatus() async {
        var failures = 0
        var lastSent: StatusReport?
        var lastSentAt = Date.distantPast
        while !Task.isCancelled {
            await state.waitForChange(timeout: configuration.heartbeatInterval, clock: clock)
            if Task.isCancelled { return }
            let report = await makeReport()
            let heartbeatDue = clock.now().timeIntervalSince(lastSentAt) >= configuration.heartbeatInterval.timeInterval
            guard report != lastSent || heartbeatDue else { continue }
            do {
                try await client.putStatus(report)
                lastSent = report
                lastSentAt = clock.now()
                failures = 0
            } catch {
                if Task.isCancelled { return }
                await retryPause(&failures, "status report", error)
                await state.markChanged()
            }
        }
    }

    func makeReport() async -> StatusReport {
        let desired = await state.desired
        let now = clock.now()
        var statuses = await state.statuses
        for index in statuses.indices {
            if let installer, let workspace = desired?.workspaces.first(where: { $0.name == statuses[index].name }) {
                let install = await installer.report(for: workspace, now: now)
                statuses[index].components = install.components
                install.conditions.forEach { statuses[index].conditions.set($0) }
            }
            let hasRules = desired?.workspaces.first(where: { $0.name == statuses[index].name })?.ruleGroups.isEmpty == false
            if rulesFollowStack, let desired, !StackMetricsStore.present(in: desired), hasRules {
                statuses[index].conditions.set(
                    Condition(
                        type: "RulesHealthy", status: .unknown, reason: "NoMetricsStore",
                        message: "no metrics store: set --metrics-store-url or enable the environment's observability stack; rules are not evaluated",
                        lastTransitionTime: now))
            } else if let rules {
                if let condition = await rules.condition(workspace: statuses[index].name, now: now) {
                    statuses[index].conditions.set(condition)
                }
            } else if desired?.workspaces.first(where: { $0.name == statuses[index].name })?.ruleGroups.isEmpty == false {
                statuses[index].conditions.set(
                    Condition(
                        type: "RulesHealthy", status: .unknown, reason: "NoMetricsStore",
                        message: "no metrics store is configured (--metrics-store-url); rules are not evaluated",
                        lastTransitionTime: now))
            }
        }
        await state.replaceStatuses(statuses)
        var facts = AgentFacts(
            instance: outbox.instance, version: configuration.version, certificateExpiry: certificateExpiry(),
            rulesLoaded: await rules?.rulesLoaded ?? 0, metricsStoreReachable: await rules?.metricsStoreReachable,
            desiredRevision: desired?.revision ?? 0, namespace: configuration.kubernetes?.namespace)
        facts.supportAccess = await installer?.supportAccessStatus()
        // Free text (Kubernetes and metrics-store words) capped and redacted by the customer's ceiling.
        return configuration.boundary.scrub(StatusReport(agent: facts, workspaces: statuses))
    }

    private func certificateExpiry() -> Date? {
        guard let pem = try? String(contentsOfFile: credentials.withLock({ $0 }).certificate, encoding: .utf8),
            let certificate = try? Certificate(pemEncoded: pem)
        else { return nil }
        return certificate.notValidAfter
    }

    // MARK: Alerts

    func deliverAlerts() async {
        var failures = 0
        while !Task.isCancelled {
            await outbox.waitUntilNotEmpty()
            if Task.isCancelled { return }
            do {
                guard let batch = try await outbox.head() else { continue }
                let stored = try await client.postAlerts(batch)
                try await outbox.acknowledge(batch)
                failures = 0
                logger.debug("alert batch delivered", metadata: ["sequence": "\(batch.sequence)", "duplicate": "\(!stored)"])
            } catch let error as ControllerClientError where error.isPermanent {
                // Resending a batch the controller refuses would block every later alert; set it aside, counted.
                logger.error("controller refused an alert batch; set aside", metadata: ["error": "\(error)"])
                try? await outbox.setAside(reason: error.description)
            } catch {
                if Task.isCancelled { return }
                await retryPause(&failures, "alert delivery", error)
            }
        }
    }

    func retryPause(_ failures: inout Int, _ what: String, _ error: any Error) async {
        if case ControllerClientError.comeBackLater(let after, _) = error {
            // An orderly answer, not a failure: wait as asked, and do not grow the backoff.
            logger.info("\(what): the controller asked to come back later", metadata: ["retryIn": "\(after)"])
            try? await clock.sleep(for: after)
            return
        }
        let delay = configuration.retry.delay(attempt: failures, random: random())
        failures += 1
        logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)", "retryIn": "\(delay)"])
        try? await clock.sleep(for: delay)
    }

    /// A random id made on first start and kept, so the controller can tell this agent's sequence
    /// numbers from those of a replacement pod with a fresh state directory.
    static func instanceID(in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("instance-id")
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        let id = UUID().uuidString.lowercased()
        try AtomicFile.write(Data("\(id)\n".utf8), to: file)
        return id
    }
}

/// What the loops share: the latest desired state and the status derived from it.
actor AgentState {
    let instance: String
    private(set) var desired: DesiredState?
    private(set) var statuses: [WorkspaceStatus] = []
    private var changed = true
    private var waiter: CheckedContinuation<Void, Never>?

    init(instance: String) { self.instance = instance }

    private var desiredWaiters: [CheckedContinuation<Void, Never>] = []

    func update(desired: DesiredState, statuses: [WorkspaceStatus]) {
        self.desired = desired
        self.statuses = statuses
        markChanged()
        desiredWaiters.forEach { $0.resume() }
        desiredWaiters.removeAll()
    }

    /// Returns when the desired revision passes `revision`, or after `timeout`.
    func waitForDesired(after revision: Int64, timeout: Duration, clock: any TimeSource) async {
        guard (desired?.revision ?? -1) <= revision else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForDesiredSignal() }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            self.releaseDesiredWaiters()
        }
    }

    private func waitForDesiredSignal() async {
        await withCheckedContinuation { desiredWaiters.append($0) }
    }

    private func releaseDesiredWaiters() {
        desiredWaiters.forEach { $0.resume() }
        desiredWaiters.removeAll()
    }

    /// Keeps condition transition times that `makeReport` maintains; not a change by itself.
    func replaceStatuses(_ statuses: [WorkspaceStatus]) {
        if desired.map({ Set($0.workspaces.map(\.name)) }) == Set(statuses.map(\.name)) { self.statuses = statuses }
    }

    func markChanged() {
        changed = true
        waiter?.resume()
        waiter = nil
    }

    /// Returns when something changed since the last call, or after `timeout` (the heartbeat).
    func waitForChange(timeout: Duration, clock: any TimeSource) async {
        if changed {
            changed = false
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            self.releaseWaiter()
        }
        changed = false
    }

    private func waitForSignal() async {
        await withCheckedContinuation { continuation in
            if changed { continuation.resume() } else { waiter = continuation }
        }
    }

    private func releaseWaiter() {
        waiter?.resume()
        waiter = nil
    }
}
