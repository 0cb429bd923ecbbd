import Controller
import Foundation
import ServiceSupport
import SplitPlaneTLS
import Synchronization

/// One real controller on loopback with everything a test needs around it: a throwaway PKI, a fresh
/// database, an operator client, and agent clients made on demand. `withController` owns all of it
/// and tears it down also when the test throws.
public final class ControllerFixture: Sendable {
    public let pki: TestPKI
    public let directory: TemporaryDirectory
    public let controller: TestController
    public let operatorClient: TestHTTPClient
    /// The SQLite file, or the PostgreSQL database's URL.
    public let databasePath: String
    private let clients = Mutex<[TestHTTPClient]>([])
    private let stopped = Mutex(false)

    init(pki: TestPKI, directory: TemporaryDirectory, databasePath: String, controller: TestController, operatorClient: TestHTTPClient) {
        self.pki = pki
        self.directory = directory
        self.databasePath = databasePath
        self.controller = controller
        self.operatorClient = operatorClient
    }

    /// Where `withController(routingConfig:)` wrote the routing configuration; a test rewrites it
    /// there to exercise a reload.
    public var routingConfigPath: String { Self.routingConfigPath(in: directory) }

    static func routingConfigPath(in directory: TemporaryDirectory) -> String { directory.path("routing.yaml") }

    /// A client presenting the test PKI's agent certificate `name` (`acme-prod`, `globex-staging`, …);
    /// shut down with the fixture.
    public func agentClient(_ name: String, http1Only: Bool = false) throws -> TestHTTPClient {
        let client = TestHTTPClient(baseURL: controller.agentURL, tls: try TLSConfigurations.agentClient(pki.agentTLS(name)), http1Only: http1Only)
        clients.withLock { $0.append(client) }
        return client
    }

    /// An operator request that must succeed; anything else fails the test with the controller's detail.
    @discardableResult
    public func mustSucceed(_ method: HTTPMethod, _ path: String, json: String) async throws -> TestResponse {
        let response = try await operatorClient.request(method, path, json: json)
        guard (200..<300).contains(response.status) else {
            throw FixtureSetupError(description: "\(method) \(path) answered \(response.status): \(response.problem?.detail ?? response.text)")
        }
        return response
    }

    /// Stops the controller before the test ends (to watch a graceful shutdown, or to read the database
    /// it leaves behind); the teardown then does not stop it again.
    public func stopController() async throws {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if !alreadyStopped { try await controller.stop() }
    }

    func shutdown() async throws {
        for client in clients.withLock({ $0 }) { try? await client.shutdown() }
        try? await operatorClient.shutdown()
        try await stopController()
    }
}

public struct FixtureSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body` against a fresh controller seeded with `seed`; every setup request is checked.
///
/// The settings are `TestController.start`'s; `routingConfig` is the YAML itself, written to
/// `fixture.routingConfigPath` before the controller starts. Anything else (listen addresses, limits,
/// helm) goes through `configure`.
public func withController(
    store: TestStoreKind = .sqlite, seed: FixtureSeed = .empty, maxPollTimeout: Duration = .seconds(30),
    bodyLimit: Int? = nil, clock: any TimeSource = SystemTimeSource(),
    agentCertificateLifetime: TimeInterval = 24 * 3600, routingConfig: String? = nil,
    slackSigningSecret: String? = nil, oidc: OIDCSettings? = nil, logs: CapturedLogs? = nil,
    configure: (inout ControllerConfiguration) -> Void = { _ in },
    _ body: (ControllerFixture) async throws -> Void
) async throws {
    let pki = try TestPKI()
    let directory = try TemporaryDirectory()
    defer { pki.remove(); directory.remove() }
    let routingConfigPath = try routingConfig.map { yaml in
        let path = ControllerFixture.routingConfigPath(in: directory)
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
    let database = try await store.freshDatabase(in: directory)
    let controller: TestController
    do {
        controller = try await TestController.start(
            pki: pki, databasePath: database, maxPollTimeout: maxPollTimeout, bodyLimit: bodyLimit,
            clock: clock, routingConfigPath: routingConfigPath, slackSigningSecret: slackSigningSecret,
            agentCertificateLifetime: agentCertificateLifetime, oidc: oidc, logs: logs,
            configure: configure)
    } catch {
        await TestStoreKind.drop(database)
        throw error
    }
    let fixture = ControllerFixture(
        pki: pki, directory: directory, databasePath: database, controller: controller,
        operatorClient: try TestHTTPClient.operatorClient(controller, pki: pki))
    func tearDown() async throws {
        try await fixture.shutdown()
        await TestStoreKind.drop(database)
    }
    do {
        try await seed.apply(to: fixture)
        try await body(fixture)
    } catch {
        try? await tearDown()
        throw error
    }
    try await tearDown()
}
