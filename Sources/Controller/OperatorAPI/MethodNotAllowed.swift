import HTTPTypes
import Hummingbird
import Synchronization

/// Turns the router's 404 into `405 Method Not Allowed` with an `Allow` header when the path exists
/// for other methods, as HTTP asks (RFC 9110 §15.5.6): a client that used the wrong method learns
/// which ones work instead of believing the resource is missing.
final class RouteTable: Sendable {
    private let entries = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])

    func load(_ routes: [(HTTPRequest.Method, String)]) {
        entries.withLock { $0 = routes.map { ($0.0, $0.1.split(separator: "/")) } }
    }

    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        return entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == parts.count && zip(entry.segments, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }.map(\.method)
        }
    }
}

struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            let allowed = table.allowedMethods(for: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            let names = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            throw APIProblem(
                .methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(names)",
                headers: [.allow: names])
        }
    }
}
