import Agent
import Foundation
import KubernetesAPI
import Logging
import ServiceLifecycle
import ServiceSupport
import SplitPlaneTLS

/// The real agent service, in process, pointed at a `TestController`, with fast retries.
public final class TestAgent: Sendable {
    public let service: AgentService
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public static func start(
        pki: TestPKI, agent name: String, controllerURL: String, stateDirectory: String,
        heartbeat: Duration = .seconds(30), outboxMaxBatches: Int = 10_000,
        metricsStoreURL: String? = nil, kubernetes: KubernetesConnection? = nil,
        supportAccess: SupportAccessGrant = .off, clock: any TimeSource = SystemTimeSource()
    ) throws -> TestAgent {
        try start(
            tls: pki.agentTLS(name), controllerURLs: [controllerURL], stateDirectory: stateDirectory, heartbeat: heartbeat,
            outboxMaxBatches: outboxMaxBatches, metricsStoreURL: metricsStoreURL, kubernetes: kubernetes,
            supportAccess: supportAccess, clock: clock)
    }

    /// An agent with the given credentials (e.g. from enrollment).
    public static func start(
        tls: TLSFiles, controllerURL: String, stateDirectory: String,
        heartbeat: Duration = .seconds(30), outboxMaxBatches: Int = 10_000,
        metricsStoreURL: String? = nil, kubernetes: KubernetesConnection? = nil
    ) throws -> TestAgent {
        try start(
            tls: tls, controllerURLs: [controllerURL], stateDirectory: stateDirectory, heartbeat: heartbeat,
            outboxMaxBatches: outboxMaxBatches, metricsStoreURL: metricsStoreURL, kubernetes: kubernetes)
    }

    /// An agent given several controller URLs (replicas), which it fails over along.
    public static func start(
        tls: TLSFiles, controllerURLs: [String], stateDirectory: String,
        heartbeat: Duration = .seconds(30), outboxMaxBatches: Int = 10_000,
        metricsStoreURL: String? = nil, kubernetes: KubernetesConnection? = nil,
        supportAccess: SupportAccessGrant = .off, clock: any TimeSource = SystemTimeSource()
    ) throws -> TestAgent {
        var configuration = AgentConfiguration(controllerURLs: controllerURLs, tls: tls, stateDirectory: stateDirectory)
        configuration.pollTimeout = .seconds(30)
        configuration.heartbeatInterval = heartbeat
        configuration.outboxMaxBatches = outboxMaxBatches
        configuration.metricsStoreURL = metricsStoreURL
        configuration.kubernetes = kubernetes
        configuration.supportAccess = supportAccess
        configuration.installInterval = .milliseconds(200)
        configuration.retry = RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(250))
        return try start(configuration: configuration, clock: clock)
    }

    /// An agent with a configuration the test shaped itself (a data boundary, a proxy, …).
    public static func start(configuration: AgentConfiguration, clock: any TimeSource = SystemTimeSource()) throws -> TestAgent {
        var logger = Logger(label: "test-agent")
        logger.logLevel = .critical
        let service = try AgentService(configuration: configuration, clock: clock, logger: logger)
        let group = ServiceGroup(configuration: .bounded([service], limit: .seconds(10), logger: logger))
        return TestAgent(service: service, group: group, task: Task { try await group.run() })
    }

    private init(service: AgentService, group: ServiceGroup, task: Task<Void, any Error>) {
        self.service = service
        self.group = group
        self.task = task
    }

    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
