import AlertRouting
import ControllerModel
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import ServiceSupport
import SplitPlaneTLS

/// Assembles the controller's three listeners — operator API (HTTPS, bearer tokens), agent gateway
/// (mutual TLS, HTTP/2 with HTTP/1.1 fallback) and operations (/metrics, /healthz, /readyz) — over one store.
public final class ControllerServer: Sendable {
    public let configuration: ControllerConfiguration
    public let store: any ControllerStore
    public let notifier = DesiredStateNotifier()
    /// The agent gateway's in-memory copies of desired states and revocation verdicts.
    let gatewayCache = GatewayCache()
    /// Unchanged heartbeats, remembered and written together.
    let heartbeats = HeartbeatCoalescer()
    public let readiness = Readiness()
    public let boundPorts = BoundPorts()
    public let dispatcher: AlertDispatcher
    public let delivery: NotificationDelivery
    public let issuer: AgentCertificateIssuer?
    /// Sign-in with identity-provider JWTs; `load()` it before serving.
    public let oidc: OIDCVerifier?
    public let resolver: ComponentResolver
    let clock: any TimeSource
    let logger: Logger
    /// Drives managed environments through Crossplane (with `--crossplane-kubeconfig`).
    public let provisioner: ManagedEnvironmentProvisioner?

    /// Refuses to start on a routing configuration that does not load.
    public init(
        configuration: ControllerConfiguration, store: any ControllerStore, clock: any TimeSource = SystemTimeSource(),
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.logger = logger
        resolver = ComponentResolver(
            helm: HelmRenderer(
                binary: HelmRenderer.locate(configured: configuration.helmBinary, path: configuration.helmSearchPath),
                timeout: configuration.helmTimeout))
        let routing =
            try configuration.routingConfigPath.map { path throws(RoutingConfigError) in try RoutingConfigSource.load(path: path, at: clock.now()) }
            ?? RoutingConfigSource(config: .empty, loadedAt: clock.now())
        let delivery = NotificationDelivery(store: store, configSource: routing, clock: clock, logger: logger)
        self.delivery = delivery
        dispatcher = AlertDispatcher(
            store: store, configSource: routing, clock: clock, logger: logger,
            onFlushed: { delivery.notificationsRecorded() })
        oidc = configuration.oidc.map(OIDCVerifier.init)
        provisioner = try configuration.crossplane.map { settings in
            try ManagedEnvironmentProvisioner(
                store: store, settings: settings, onboarding: configuration.onboarding, clock: clock, logger: logger)
        }
        issuer = try configuration.issuingCA.map { files in
            let authority = try CertificateAuthority.load(
                certificatePEM: try String(contentsOfFile: files.certificate, encoding: .utf8),
                privateKeyPEM: try String(contentsOfFile: files.privateKey, encoding: .utf8))
            return AgentCertificateIssuer(
                authority: authority, trustDomain: configuration.trustDomain, lifetime: configuration.agentCertificateLifetime,
                trustBundlePath: configuration.tls.trustBundle)
        }
    }

    /// The services to run in one `ServiceGroup`, which shuts them down one after another in reverse
    /// order: first every held long poll is answered (told when to come back), then the agent gateway
    /// closes its connections, and only then the rest stops — the last heartbeats flushed after the
    /// gateway stopped taking them. Agents are back on a restarted controller sooner the sooner the
    /// old one has let go of them.
    public func services(metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) throws -> [any Service] {
        [try operatorApplication()] + (issuer == nil ? [] : [try enrollmentApplication()]) + [
            OperationsEndpoints.application(
                host: configuration.metricsListen.host, port: configuration.metricsListen.port,
                registry: metricsRegistry, readiness: readiness, logger: logger,
                onServerRunning: { [boundPorts] port in await boundPorts.set(.metrics, port) }),
            dispatcher, delivery,
            HeartbeatFlusher(coalescer: heartbeats, store: store, clock: clock, interval: configuration.lastSeenFlushInterval, logger: logger),
        ] + changeFollower() + (provisioner.map { [$0] } ?? []) + [try agentGatewayApplication(), LongPollShutdown(notifier: notifier)]
    }

    /// What the store commits — here, or on another replica sharing it — wakes this replica's long polls.
    func changeFollower() -> [any Service] {
        readiness.set("store-changes", problem: "not yet following the store's changes")
        return [
            StoreChangeFollower(
                feed: store, notifier: notifier, cache: gatewayCache, heartbeats: heartbeats, readiness: readiness,
                logger: logger)
        ]
    }

    func operatorApplication() throws -> some ApplicationProtocol {
        let router = operatorRouter()
        let tls = try TLSConfigurations.server(certificate: configuration.tls.certificate, privateKey: configuration.tls.privateKey)
        return Application(
            router: router, server: try .guardedHTTP1(tls: tls, limits: configuration.operatorLimits, listener: "operator"),
            configuration: .init(
                address: .hostname(configuration.operatorListen.host, port: configuration.operatorListen.port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.operatorLimits.maxConnections)),
            onServerRunning: { [boundPorts, readiness] channel in
                await boundPorts.set(.operatorAPI, channel.localAddress?.port ?? 0)
                readiness.set("operator-api", problem: nil)
            },
            logger: logger)
    }

    /// Every operator route; `/openapi.yaml` describes each of them (a test holds the two together).
    public func operatorRouter() -> Router<OperatorRequestContext> {
        let router = Router(context: OperatorRequestContext.self)
        let routeTable = RouteTable()
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(table: routeTable))
        OpenAPIDocument.register(on: router)
        SlackInteractionRoutes(store: store, signature: configuration.slackSigningSecret.map(SlackSignature.init), clock: clock).register(on: router)
        let v1 = router.group("v1").add(
            middleware: BearerTokenMiddleware(
                tokens: configuration.adminTokens, store: store, oidc: oidc,
                now: { [clock] in clock.now() })
        )
        .add(middleware: AuditMiddleware(store: store, clock: clock))
        .add(middleware: AccessPolicyMiddleware())
        TokenRoutes(store: store, clock: clock, bodyLimit: configuration.bodyLimit).register(on: v1)
        OperatorRoutes(
            store: store, resolver: resolver, clock: clock, bodyLimit: configuration.bodyLimit,
            wakeProvisioner: { [provisioner] in provisioner?.poke() }, provisions: provisioner != nil
        ).register(on: v1)
        AlertingRoutes(store: store, dispatcher: dispatcher, clock: clock, bodyLimit: configuration.bodyLimit).register(on: v1)
        IdentityRoutes(store: store, clock: clock, bodyLimit: configuration.bodyLimit).register(on: v1)
        OnboardingRoutes(store: store, settings: configuration.onboarding).register(on: v1)
        routeTable.load(router.routes.map { ($0.method, $0.path.description) })
        return router
    }

    func agentGatewayApplication() throws -> some ApplicationProtocol {
        let router = Router(context: AgentRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        let peers = PeerCertificates()
        let v1 = router.group("agent/v1").add(
            middleware: AgentIdentityMiddleware(
                trustDomain: configuration.trustDomain, store: store, clock: clock,
                cache: gatewayCache, peers: peers))
        AgentGatewayRoutes(
            store: store, notifier: notifier, cache: gatewayCache, heartbeats: heartbeats, dispatcher: dispatcher, issuer: issuer, clock: clock,
            bodyLimit: configuration.bodyLimit,
            maxPollTimeout: configuration.maxPollTimeout, reconnectPace: configuration.reconnectPace, alertLimits: configuration.alertLimits
        ).register(on: v1)
        let tls = try TLSConfigurations.mutualServer(configuration.tls)
        return Application(
            router: router, server: try .guardedHTTP2Upgrade(tls: tls, limits: configuration.agentLimits, listener: "agent", peers: peers),
            configuration: .init(
                address: .hostname(configuration.agentListen.host, port: configuration.agentListen.port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.agentLimits.maxConnections)),
            onServerRunning: { [boundPorts, readiness] channel in
                await boundPorts.set(.agentGateway, channel.localAddress?.port ?? 0)
                readiness.set("agent-gateway", problem: nil)
            },
            logger: logger)
    }
}

extension ControllerServer {
    /// Enrollment: server-authenticated TLS only — the agent has no certificate yet.
    func enrollmentApplication() throws -> some ApplicationProtocol {
        let router = Router(context: OperatorRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        if let issuer {
            EnrollmentRoutes(
                store: store, issuer: issuer, serviceAccounts: ServiceAccountTokenVerifier(audience: configuration.enrollmentAudience),
                clock: clock
            ).register(on: router)
        }
        let tls = try TLSConfigurations.server(certificate: configuration.tls.certificate, privateKey: configuration.tls.privateKey)
        return Application(
            router: router, server: try .guardedHTTP1(tls: tls, limits: configuration.enrollLimits, listener: "enrollment"),
            configuration: .init(
                address: .hostname(configuration.enrollListen.host, port: configuration.enrollListen.port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.enrollLimits.maxConnections)),
            onServerRunning: { [boundPorts, readiness] channel in
                await boundPorts.set(.enrollment, channel.localAddress?.port ?? 0)
                readiness.set("enrollment", problem: nil)
            },
            logger: logger)
    }
}

/// On graceful shutdown, answers every long poll at once instead of letting it run to its timeout.
struct LongPollShutdown: Service {
    let notifier: DesiredStateNotifier

    func run() async throws {
        try? await gracefulShutdown()
        await notifier.shutdown()
    }
}

/// Ports the listeners actually bound (port 0 in tests picks a free one).
public actor BoundPorts {
    public enum Listener: Sendable { case operatorAPI, agentGateway, metrics, enrollment }
    private var ports: [Listener: Int] = [:]
    private var waiters: [(Listener, CheckedContinuation<Int, Never>)] = []

    public init() {}

    func set(_ listener: Listener, _ port: Int) {
        ports[listener] = port
        waiters.removeAll { waiter in
            guard waiter.0 == listener else { return false }
            waiter.1.resume(returning: port)
            return true
        }
    }

    /// Waits until `listener` is accepting connections and returns its port.
    public func port(_ listener: Listener) async -> Int {
        if let port = ports[listener] { return port }
        return await withCheckedContinuation { waiters.append((listener, $0)) }
    }
}
