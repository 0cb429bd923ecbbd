import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SplitPlaneProtocol
import Synchronization

/// A small client for the Kubernetes REST API: JSON requests with the service account's bearer
/// token, errors as the server's `Status`. It counts its requests so benchmarks and tests can see
/// what a reconcile cost.
public final class KubernetesClient: Sendable {
    public let connection: KubernetesConnection
    private let http: HTTPClient
    private let token: Mutex<(value: String?, readAt: Date)>
    private let counter = Atomic<Int>(0)
    static let bodyLimit = 32 << 20
    /// client-go re-reads a token file every minute; projected tokens rotate well before they expire.
    static let tokenReload: TimeInterval = 60
    static let userAgent = "qbeast-agent"

    public init(connection: KubernetesConnection) throws {
        self.connection = connection
        var configuration = HTTPClient.Configuration(tlsConfiguration: try connection.tlsConfiguration(), timeout: .init(connect: .seconds(10)))
        configuration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        token = Mutex((nil, .distantPast))
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// Requests sent since start (every retry counts).
    public var requestCount: Int { counter.load(ordering: .relaxed) }

    public func get(_ path: String, query: [(String, String)] = []) async throws -> JSONValue {
        try await send(.GET, path, query: query)
    }

    /// Names and labels of a collection's objects: metadata only where the server offers it
    /// (`PartialObjectMetadataList`), so listing Secrets does not transfer their data.
    public func listMetadata(_ path: String) async throws -> [JSONValue] {
        let list = try await send(.GET, path, accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
        return list["items"]?.arrayValue ?? []
    }

    /// A list's objects by `metadata.name` (names are unique within one collection of one namespace).
    public static func byName(_ items: [JSONValue]) -> [String: JSONValue] {
        Dictionary(
            items.compactMap { object in object["metadata"]?["name"]?.stringValue.map { ($0, object) } },
            uniquingKeysWith: { first, _ in first })
    }

    /// Server-side apply: create-or-update the fields `object` names, owned by `fieldManager`.
    public func apply(_ object: JSONValue, at path: String, fieldManager: String, force: Bool) async throws -> JSONValue {
        let body = try JSONEncoder().encode(object)
        return try await send(
            .PATCH, path, query: [("fieldManager", fieldManager), ("force", force ? "true" : "false")],
            body: body, contentType: "application/apply-patch+yaml")
    }

    public func post(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        try await send(.POST, path, body: try JSONEncoder().encode(object), contentType: "application/json")
    }

    /// Deletes with a `uid` precondition, so an object re-created by someone else since it was read is left alone.
    public func delete(_ path: String, uid: String?) async throws {
        var options: [String: JSONValue] = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"]
        if let uid { options["preconditions"] = ["uid": .string(uid)] }
        _ = try await send(.DELETE, path, body: try JSONEncoder().encode(JSONValue.object(options)), contentType: "application/json")
    }

    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String? = nil,
        accept: String = "application/json"
    ) async throws -> JSONValue {
        var components = URLComponents()
        components.percentEncodedPath = path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        var request = HTTPClientRequest(url: connection.server + (components.string ?? path))
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        var (status, data) = try await execute(request, reloadToken: false)
        if status == 401, case .tokenFile = connection.credential {
            // The token may have rotated since it was read: read it again once before giving up.
            (status, data) = try await execute(request, reloadToken: true)
        }
        guard (200..<300).contains(status) else { throw KubernetesAPIError(code: status, body: data) }
        return data.isEmpty ? .null : try JSONDecoder().decode(JSONValue.self, from: data)
    }

    private func execute(_ request: HTTPClientRequest, reloadToken: Bool) async throws -> (Int, Data) {
        var request = request
        if let bearer = try currentToken(reload: reloadToken) {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(bearer)")
        }
        counter.add(1, ordering: .relaxed)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: Self.bodyLimit)
        return (Int(response.status.code), Data(buffer: body))
    }

    private func currentToken(reload: Bool) throws -> String? {
        switch connection.credential {
        case .none: return nil
        case .token(let value): return value
        case .tokenFile(let path):
            let now = Date()
            if !reload, let cached = token.withLock({ $0.value != nil && now.timeIntervalSince($0.readAt) < Self.tokenReload ? $0.value : nil }) {
                return cached
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KubernetesConfigurationError("cannot read the service-account token at \(path)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            token.withLock { $0 = (value, now) }
            return value
        }
    }
}
