import Controller
import Foundation
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
    private let clients = Mutex<[TestHTTPClient]>([])

    init(pki: TestPKI, directory: TemporaryDirectory, controller: TestController, operatorClient: TestHTTPClient) {
        self.pki = pki
        self.directory = directory
        self.controller = controller
        self.operatorClient = operatorClient
    }

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

    func shutdown() async {
        for client in clients.withLock({ $0 }) { try? await client.shutdown() }
        try? await operatorClient.shutdown()
    }
}

/// What a fixture's controller holds before the test starts.
public enum FixtureSeed: Sendable {
    case empty
    /// Tenant `acme` with environment `prod` (aws, provided).
    case acmeProd
    /// `acme/prod` with workspace `analytics` (no components), and `globex/staging`.
    case twoTenants
}

public struct FixtureSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body` against a fresh controller seeded with `seed`; every setup request is checked.
public func withController(store: TestStoreKind = .sqlite, seed: FixtureSeed = .empty, maxPollTimeout: Duration = .seconds(30),
                           bodyLimit: Int? = nil, logs: CapturedLogs? = nil, configure: (inout ControllerConfiguration) -> Void = { _ in },
                           _ body: (ControllerFixture) async throws -> Void) async throws {
    let pki = try TestPKI()
    let directory = try TemporaryDirectory()
    defer { pki.remove(); directory.remove() }
    let database = try await store.freshDatabase(in: directory)
    let controller: TestController
    do {
        controller = try await TestController.start(pki: pki, databasePath: database, maxPollTimeout: maxPollTimeout, bodyLimit: bodyLimit,
                                                    logs: logs, configure: configure)
    } catch {
        await TestStoreKind.drop(database)
        throw error
    }
    let fixture = ControllerFixture(pki: pki, directory: directory, controller: controller,
                                    operatorClient: try TestHTTPClient.operatorClient(controller, pki: pki))
    func tearDown() async throws {
        await fixture.shutdown()
        try await controller.stop()
        await TestStoreKind.drop(database)
    }
    do {
        switch seed {
        case .empty:
            break
        case .acmeProd:
            try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            try await fixture.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
        case .twoTenants:
            for (tenant, environment) in [("acme", "prod"), ("globex", "staging")] {
                try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"\#(tenant)"}"#)
                try await fixture.mustSucceed(.POST, "/v1/tenants/\(tenant)/environments",
                                              json: #"{"name":"\#(environment)","cloud":"aws","mode":"provided"}"#)
            }
            try await fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{"components":[]}}"#)
        }
        try await body(fixture)
    } catch {
        try? await tearDown()
        throw error
    }
    try await tearDown()
}
