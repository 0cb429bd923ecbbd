import Foundation
import HTTPTypes
import Hummingbird
import SplitPlaneProtocol

/// Who is calling the operator API and what their token allows.
public struct Principal: Sendable, Equatable {
    /// How the audit log names the caller: `token:<name>`, or `token:<hash prefix>` for configured tokens.
    public var name: String
    public var role: APIRole
    /// Set for `editor` and `viewer`: the one tenant they may see.
    public var tenant: String?

    /// Tenant-scoped callers see only their tenant; nil means every tenant.
    public var visibleTenant: String? { role.isTenantScoped ? tenant : nil }
}

/// Role checks on every `/v1` request, by path, before any handler runs. Tenant-scoped roles meet
/// other tenants' objects as `404` (they do not learn those exist); actions beyond a role are `403`.
struct AccessPolicyMiddleware: RouterMiddleware {
    typealias Context = OperatorRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.principal else { throw APIProblem(.unauthorized, "no verified caller") }
        try Self.check(principal, method: request.method, path: request.uri.path)
        return try await next(request, context)
    }

    static func check(_ principal: Principal, method: HTTPRequest.Method, path: String) throws {
        let parts = path.split(separator: "/").dropFirst()  // after "v1"
        let reading = method == .get || method == .head
        func require(_ roles: Set<APIRole>, _ what: String) throws {
            guard roles.contains(principal.role) else {
                throw APIProblem(.forbidden, "role \(principal.role.rawValue) may not \(what)")
            }
        }
        switch parts.first {
        case "tokens":
            try require([.admin], "manage API tokens")
        case "tenants":
            if parts.count == 1 {
                if !reading { try require([.admin, .operator], "create tenants") }
                return
            }
            if let tenant = principal.visibleTenant, parts[parts.startIndex + 1] != tenant {
                throw APIProblem(.notFound, "tenant \"\(parts[parts.startIndex + 1])\" not found")
            }
            if parts.count == 2 && method == .delete { try require([.admin, .operator], "delete tenants") }
            // Asking a customer for support access is Qbeast's act, never a tenant-scoped token's.
            if parts.last == "support-access-request" && !reading { try require([.admin, .operator], "request support access") }
            if !reading { try require([.admin, .operator, .editor], "change anything (read-only token)") }
        case "environments":
            // Every environment the caller may see, across tenants (the handler filters by tenant).
            if !reading { try require([.admin, .operator], "use \(path)") }
        case "alerts", "alert-groups":
            if !reading { try require([.admin, .operator, .editor], "acknowledge alerts (read-only token)") }
        default:
            // Fleet-wide views and controls: notifications, silences, routing, certificates, audit.
            try require([.admin, .operator], "use \(path) (it spans tenants)")
        }
    }
}
