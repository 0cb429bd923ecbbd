import ControllerModel
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SplitPlaneProtocol

/// Operator API authentication. A bearer token is either one of the configured admin tokens (their
/// SHA-256 held in memory, compared in constant time) or an API token from the store, found by its
/// SHA-256 (the store keeps nothing else), or — when sign-in through an identity provider is
/// configured — a JWT verified by `OIDCVerifier`. Sets the caller's principal for the access policy and audit.
public struct BearerTokenMiddleware: RouterMiddleware {
    public typealias Context = OperatorRequestContext

    private let acceptedHashes: [Data]
    private let store: (any TokenStore)?
    private let oidc: OIDCVerifier?
    private let now: @Sendable () -> Date

    public init(tokens: [String], store: (any TokenStore)? = nil, oidc: OIDCVerifier? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        acceptedHashes = tokens.map { Self.hash($0) }
        self.store = store
        self.oidc = oidc
        self.now = now
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"qbeast-controller\""]
        guard let header = request.headers[.authorization] else {
            throw APIProblem(.unauthorized, "missing Authorization header; send `Authorization: Bearer <token>`", headers: challenge)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIProblem(.unauthorized, "the Authorization header must use the Bearer scheme", headers: challenge)
        }
        let bearer = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if let oidc, OIDCVerifier.looksLikeJWT(bearer) {
            var context = context
            do {
                context.principal = try await oidc.principal(for: bearer, at: now())
            } catch {
                throw error.status == .unauthorized ? APIProblem(error.status, error.detail, headers: challenge) : error
            }
            return try await next(request, context)
        }
        let presented = Self.hash(bearer)
        // Check every configured hash, so timing does not reveal which (if any) matched.
        var matched = false
        for accepted in acceptedHashes where Self.constantTimeEqual(accepted, presented) { matched = true }
        var context = context
        if matched {
            context.principal = Principal(name: "token:" + Hex.encode(presented.prefix(4)), role: .admin, tenant: nil)
        } else if let store, let token = try await store.token(hash: Hex.encode(presented)) {
            context.principal = Principal(name: "token:\(token.name)", role: token.role, tenant: token.tenant)
        } else {
            throw APIProblem(.unauthorized, "the bearer token is not valid", headers: challenge)
        }
        return try await next(request, context)
    }

    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
