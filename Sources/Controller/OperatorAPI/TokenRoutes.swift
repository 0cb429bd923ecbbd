import ControllerModel
import Foundation
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// `/v1/tokens`: API tokens with roles, created (the secret shown once), listed and revoked by admins.
struct TokenRoutes {
    typealias Context = OperatorRequestContext
    let store: any TokenStore
    let clock: any TimeSource
    let bodyLimit: Int

    func register(on group: RouterGroup<Context>) {
        group.get("tokens", use: list)
        group.post("tokens", use: create)
        group.delete("tokens/:id", use: revoke)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let page = try ListPage(request)
        let role = try ListFilter.value(request, "role", as: APIRole.self)
        let tenant = request.uri.queryParameters["tenant"].map(String.init)
        if let tenant { try ResourceName.validate(tenant, field: "tenant") }
        let tokens = try await store.tokens().filter { token in
            (role.map { $0 == token.role } ?? true) && (tenant.map { $0 == token.tenant } ?? true)
        }
        return try JSONBodies.response(page.page(tokens, key: \.id))
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONBodies.decode(APITokenRequest.self, from: request, limit: bodyLimit)
        try body.validate()
        let secret = "qbt_" + APITokens.random(32)
        var token = APIToken(
            id: APITokens.random(8), name: body.name, role: body.role, tenant: body.tenant, createdAt: clock.now(),
            createdBy: context.principal?.name ?? "unknown", revokedAt: nil)
        try await store.createToken(token, hash: APITokens.hash(secret))
        token.token = secret
        return try JSONBodies.response(token, status: .created, headers: [.cacheControl: "no-store"])
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        try JSONBodies.response(try await store.revokeToken(id: context.parameters.get("id") ?? "", at: clock.now()))
    }
}

enum APITokens {
    static func random(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func hash(_ token: String) -> String { Hex.sha256(token) }
}
