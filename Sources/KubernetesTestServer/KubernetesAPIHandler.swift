import Foundation
import Hummingbird
import NIOCore
import SplitPlaneProtocol

/// Answers every request of the Kubernetes test server: records it, authenticates it, routes it to
/// discovery, OpenAPI or a resource, and writes the answer (or a Status) as JSON.
struct KubernetesAPIHandler: RouterMiddleware {
    typealias Context = BasicRequestContext
    let cluster: SharedCluster

    /// The API server's limit on request bodies (3 MiB).
    static let bodyLimit = 3 * 1024 * 1024

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let method = request.method.rawValue
        let query = Self.parseQuery(request.uri.query)
        let contentType = request.headers[.contentType]
        let body: Data
        do {
            body = Data(try await request.body.collect(upTo: Self.bodyLimit).readableBytesView)
        } catch {
            record(method, request.uri.path, query, contentType, body: nil)
            return Self.respond(KubeStatusError.tooLarge(limit: Self.bodyLimit))
        }
        record(method, request.uri.path, query, contentType, body: body.isEmpty ? nil : String(decoding: body, as: UTF8.self))
        if let token = cluster.withLock({ $0.token }), request.headers[.authorization] != "Bearer \(token)" {
            return Self.respond(KubeStatusError.unauthorized)
        }
        do {
            let segments = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            return try route(segments, method: method, query: query, body: body, request: request)
        } catch let error as KubeStatusError {
            return Self.respond(error)
        }
    }

    private func record(_ method: String, _ path: String, _ query: [String: String], _ contentType: String?, body: String?) {
        let recorded = KubernetesTestServer.RecordedRequest(method: method, path: path, query: query, contentType: contentType, body: body)
        cluster.withLock { $0.requests.append(recorded) }
    }

    private func route(_ segments: [String], method: String, query: [String: String], body: Data, request: Request) throws -> Response {
        let get = method == "GET"
        switch segments {
        case ["version"] where get: return Self.respond(Discovery.version)
        case ["api"] where get:
            return Self.respond(Discovery.apiVersions(serverAddress: request.head.authority ?? "127.0.0.1"))
        case ["apis"] where get: return Self.respond(Discovery.groupList)
        case ["openapi", "v3"] where get: return Self.respond(Discovery.openAPIRoot)
        case _ where get && segments.count == 4 && segments[0] == "openapi" && segments[1] == "v3" && segments[2] == "api":
            return try Self.respond(Self.found(Discovery.openAPI(group: "", version: segments[3])))
        case _ where get && segments.count == 5 && segments[0] == "openapi" && segments[1] == "v3" && segments[2] == "apis":
            return try Self.respond(Self.found(Discovery.openAPI(group: segments[3], version: segments[4])))
        case _ where get && segments.count == 2 && segments[0] == "apis":
            return try Self.respond(Self.found(Discovery.apiGroup(segments[1])))
        case _ where segments.count >= 2 && segments[0] == "api":
            return try resource(
                group: "", version: segments[1], Array(segments.dropFirst(2)), method: method, query: query, body: body,
                request: request)
        case _ where segments.count >= 3 && segments[0] == "apis":
            return try resource(
                group: segments[1], version: segments[2], Array(segments.dropFirst(3)), method: method, query: query,
                body: body, request: request)
        default:
            throw KubeStatusError.pathNotFound
        }
    }

    private func resource(
        group: String, version: String, _ rest: [String], method: String, query: [String: String], body: Data,
        request: Request
    ) throws -> Response {
        if rest.isEmpty {
            guard method == "GET", let list = Discovery.resourceList(group: group, version: version) else { throw KubeStatusError.pathNotFound }
            return Self.respond(list)
        }
        var rest = rest
        var namespace: String?
        if rest.count >= 3, rest[0] == "namespaces", let scoped = KubeResources.find(group: group, version: version, name: rest[2]) {
            guard scoped.namespaced else { throw KubeStatusError.pathNotFound }
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard let resource = KubeResources.find(group: group, version: version, name: rest[0]), rest.count <= 3 else {
            throw KubeStatusError.pathNotFound
        }
        if resource.namespaced && namespace == nil && rest.count > 1 { throw KubeStatusError.pathNotFound }
        let subresource = rest.count == 3 ? rest[2] : nil
        if let subresource, subresource != "status" || !resource.hasStatus { throw KubeStatusError.pathNotFound }
        let objectRequest = ObjectRequest(
            resource: resource, namespace: namespace, name: rest.count > 1 ? rest[1] : nil,
            subresource: subresource, query: query, userAgent: request.headers[.userAgent])
        let failure = cluster.withLock { state in
            state.failures.sorted { $0.key < $1.key }.first { $0.value.matches(method: method, request: objectRequest) }?.value
        }
        if let failure {
            let bodyName = (try? KubeJSON.parseJSONOrYAML(body))?["metadata"]?["name"]?.stringValue
            throw failure.status(for: objectRequest, objectName: objectRequest.name ?? bodyName)
        }
        return try serve(objectRequest, method: method, contentType: request.headers[.contentType], body: body)
    }

    private func serve(_ request: ObjectRequest, method: String, contentType: String?, body: Data) throws -> Response {
        let mediaType = contentType.map { String($0.split(separator: ";").first ?? "").trimmingSpaces.lowercased() } ?? ""
        if request.resource.createOnly {
            guard method == "POST", request.name == nil else { throw KubeStatusError.methodNotAllowed }
            let review = try Self.decodeObject(body, mediaType: mediaType)
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.rulesReview(review) }, code: 201)
        }
        switch (method, request.name) {
        case ("GET", .some):
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.get(request) })
        case ("GET", .none):
            if ["true", "1"].contains(request.query["watch"]) { return try WatchStream.open(request, cluster: cluster) }
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.list(request) })
        case ("POST", .none):
            let object = try Self.decodeObject(body, mediaType: mediaType)
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.create(request, body: object) }, code: 201)
        case ("PUT", .some):
            let object = try Self.decodeObject(body, mediaType: mediaType)
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.replace(request, body: object) })
        case ("PATCH", .some):
            let (created, object) = try cluster.withLock { store throws(KubeStatusError) in
                try store.patch(request, contentType: mediaType, body: body)
            }
            return Self.respond(object, code: created ? 201 : 200)
        case ("DELETE", .some):
            let options = body.isEmpty ? nil : try Self.decodeObject(body, mediaType: mediaType)
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.delete(request, options: options) })
        case ("DELETE", .none):
            return Self.respond(try cluster.withLock { store throws(KubeStatusError) in try store.deleteCollection(request) })
        default:
            throw KubeStatusError.methodNotAllowed
        }
    }

    private static func found(_ document: JSONValue?) throws(KubeStatusError) -> JSONValue {
        guard let document else { throw .pathNotFound }
        return document
    }

    private static func decodeObject(_ body: Data, mediaType: String) throws -> JSONValue {
        switch mediaType {
        case "", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf+json":
            do {
                let value = mediaType == "application/yaml" ? try KubeJSON.parseJSONOrYAML(body) : try KubeJSON.parse(body)
                guard value.objectValue != nil else { throw KubeStatusError.badRequest("the body of the request was not an object") }
                return value
            } catch let error as KubeStatusError {
                throw error
            } catch {
                throw KubeStatusError.badRequest("the object provided is unrecognized: \(error)")
            }
        default:
            throw KubeStatusError.unsupportedMediaType(mediaType)
        }
    }

    /// `a=b&c=d`, with `+` as space (Go's query encoding).
    static func parseQuery(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    static func respond(_ value: JSONValue, code: Int = 200) -> Response {
        Response(
            status: .init(code: code), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: KubeJSON.encode(value))))
    }

    static func respond(_ error: KubeStatusError) -> Response { respond(error.status, code: error.code) }
}
