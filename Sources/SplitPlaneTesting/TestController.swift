import Controller
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import SplitPlaneTLS

/// The real controller, in process, on loopback ports picked by the OS (or given, to restart on the
/// same address), with its SQLite file in a temporary directory — or, when `databasePath` is a
/// `postgres://` URL, on that PostgreSQL database (several may share one, as replicas do).
public final class TestController: Sendable {
    public static let adminToken = "test-admin-token-0123456789abcdef"

    public let server: ControllerServer
    public let operatorPort: Int
    public let agentPort: Int
    public let metricsPort: Int
    public let enrollPort: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let opened: OpenedStore

    public var operatorURL: String { "https://localhost:\(operatorPort)" }
    public var agentURL: String { "https://localhost:\(agentPort)" }
    public var enrollURL: String { "https://localhost:\(enrollPort)" }

    public static func start(
        pki: TestPKI, databasePath: String, agentPort: Int = 0, maxPollTimeout: Duration = .seconds(30),
        bodyLimit: Int? = nil, clock: any TimeSource = SystemTimeSource(),
        routingConfigPath: String? = nil, slackSigningSecret: String? = nil,
        agentCertificateLifetime: TimeInterval = 24 * 3600,
        oidc: OIDCSettings? = nil, logs: CapturedLogs? = nil,
        configure: (inout ControllerConfiguration) -> Void = { _ in }
    ) async throws -> TestController {
        var configuration = ControllerConfiguration(tls: pki.serverTLS, databasePath: databasePath, adminTokens: [adminToken])
        configuration.operatorListen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.agentListen = ListenAddress(host: "127.0.0.1", port: agentPort)
        configuration.metricsListen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.trustDomain = pki.trustDomain
        configuration.maxPollTimeout = maxPollTimeout
        if let bodyLimit { configuration.bodyLimit = bodyLimit }
        configuration.routingConfigPath = routingConfigPath
        configuration.slackSigningSecret = slackSigningSecret
        configuration.enrollListen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.issuingCA = pki.issuingCA
        configuration.agentCertificateLifetime = agentCertificateLifetime
        configuration.oidc = oidc
        // Tests say which helm they mean; whatever helm the machine may have on PATH is not used.
        configuration.helmSearchPath = ""
        configure(&configuration)
        var logger = logs.map { logs in Logger(label: "test-controller", factory: logs.handler(label:)) } ?? Logger(label: "test-controller")
        logger.logLevel = logs == nil ? .warning : .debug
        let opened = try OpenedStore.open(databasePath, logger: logger)
        let server = try ControllerServer(configuration: configuration, store: opened.store, clock: clock, logger: logger)
        try await server.oidc?.load()
        // A shutdown stuck in some service fails over to cancellation instead of hanging the test run.
        let group = ServiceGroup(configuration: .bounded(opened.services + (try server.services()), limit: .seconds(10), logger: logger))
        let task = Task { try await group.run() }
        async let operatorPort = server.boundPorts.port(.operatorAPI)
        async let agentPort = server.boundPorts.port(.agentGateway)
        async let metricsPort = server.boundPorts.port(.metrics)
        async let enrollPort = server.boundPorts.port(.enrollment)
        return TestController(
            server: server, ports: await (operatorPort, agentPort, metricsPort, enrollPort), group: group, task: task,
            opened: opened)
    }

    private init(server: ControllerServer, ports: (Int, Int, Int, Int), group: ServiceGroup, task: Task<Void, any Error>, opened: OpenedStore) {
        self.opened = opened
        self.server = server
        (operatorPort, agentPort, metricsPort, enrollPort) = ports
        self.group = group
        self.task = task
    }

    /// Graceful shutdown, as on SIGTERM; returns when every listener has closed.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        do {
            try await task.value
        } catch {
            await opened.close()
            throw error
        }
        await opened.close()
    }
}
