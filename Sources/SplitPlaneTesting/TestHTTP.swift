import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SplitPlaneProtocol
import SplitPlaneTLS

@_exported import enum NIOHTTP1.HTTPMethod

/// An HTTP answer as tests look at it.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try StrictJSON.decoder().decode(T.self, from: body) }

    public var problem: Problem? { try? decode(Problem.self) }
}

/// A TLS client for tests: as an operator (server-authenticated only) or as an agent (with a client certificate).
public final class TestHTTPClient: Sendable {
    let http: HTTPClient
    let baseURL: String

    public init(baseURL: String, tls: TLSConfiguration, http1Only: Bool = false) {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5)))
        configuration.httpVersion = http1Only ? .http1Only : .automatic
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.baseURL = baseURL
    }

    public static func operatorClient(_ controller: TestController, pki: TestPKI) throws -> TestHTTPClient {
        TestHTTPClient(baseURL: controller.operatorURL, tls: try TLSConfigurations.operatorClient(trustBundle: pki.caBundle))
    }

    public static func agentClient(_ controller: TestController, pki: TestPKI, agent: String) throws -> TestHTTPClient {
        TestHTTPClient(baseURL: controller.agentURL, tls: try TLSConfigurations.agentClient(pki.agentTLS(agent)))
    }

    public func request(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, token: String? = TestController.adminToken,
        contentType: String? = "application/json", headers: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(timeout.components.seconds))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }

    public func request(_ method: HTTPMethod, _ path: String, json: String, token: String? = TestController.adminToken) async throws -> TestResponse {
        try await request(method, path, body: Data(json.utf8), token: token)
    }

    public func request(
        _ method: HTTPMethod, _ path: String, encoding value: some Encodable,
        token: String? = TestController.adminToken
    ) async throws -> TestResponse {
        try await request(method, path, body: try StrictJSON.encode(value), token: token)
    }

    public func shutdown() async throws { try await http.shutdown() }

    deinit {
        // A test that failed before calling `shutdown()` must still end cleanly (AsyncHTTPClient
        // traps on deinit otherwise); shutting down twice is harmless.
        http.shutdown { _ in }
    }
}
