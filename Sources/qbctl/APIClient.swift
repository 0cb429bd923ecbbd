import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SplitPlaneProtocol
import SplitPlaneTLS

/// Thin client of the operator REST API; turns problem+json answers into `CLIError`s.
struct APIClient {
    // The HTTP client is made per request and shut down after it: a CLI makes one or two calls, and
    // an early validation error must not leave a client behind.
    let httpConfiguration: HTTPClient.Configuration
    let server: String
    let token: String

    init(server: String, token: String, caFile: String?) throws {
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw CLIError.usage("--server must be an http(s):// URL, got \"\(server)\"")
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try TLSConfigurations.operatorClient(trustBundle: caFile),
            timeout: .init(connect: .seconds(10), read: .seconds(60)))
        configuration.httpVersion = .automatic
        httpConfiguration = configuration
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.token = token
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try StrictJSON.decode(T.self, from: try await send(.GET, path, body: nil))
    }

    func send<T: Decodable>(_ method: HTTPMethod, _ path: String, json: some Encodable, as type: T.Type) async throws -> T {
        try StrictJSON.decode(T.self, from: try await send(method, path, body: try StrictJSON.encode(json)))
    }

    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, body: Data?, contentType: String = "application/json") async throws -> Data {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            bytes = try await response.body.collect(upTo: 64 << 20)
            try? await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw CLIError(message: "cannot reach \(server): \(error)", exitCode: 5)
        }
        let data = Data(bytes.readableBytesView)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let detail = (try? StrictJSON.decoder().decode(Problem.self, from: data))?.detail ?? String(decoding: data.prefix(300), as: UTF8.self)
            let code: Int32 =
                switch status {
                case 404: 3
                case 401, 403: 4
                default: 1
                }
            throw CLIError(message: "\(status) \(response.status.reasonPhrase): \(detail)", exitCode: code, status: status)
        }
        return data
    }
}
