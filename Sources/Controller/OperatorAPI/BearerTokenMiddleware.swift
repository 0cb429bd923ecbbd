import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Operator API authentication: a bearer token whose SHA-256 must equal a configured hash.
/// Only hashes are held, and they are compared in constant time. Names the caller for the audit log.
public struct BearerTokenMiddleware: RouterMiddleware {
    public typealias Context = OperatorRequestContext

    private let acceptedHashes: [Data]

    public init(tokens: [String]) {
        acceptedHashes = tokens.map { Self.hash($0) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"qbeast-controller\""]
        guard let header = request.headers[.authorization] else {
            throw APIProblem(.unauthorized, "missing Authorization header; send `Authorization: Bearer <token>`", headers: challenge)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIProblem(.unauthorized, "the Authorization header must use the Bearer scheme", headers: challenge)
        }
        let presented = Self.hash(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        // Check every configured hash, so timing does not reveal which (if any) matched.
        var matched = false
        for accepted in acceptedHashes where Self.constantTimeEqual(accepted, presented) { matched = true }
        guard matched else {
            throw APIProblem(.unauthorized, "the bearer token is not valid", headers: challenge)
        }
        var context = context
        context.actor = "token:" + presented.prefix(4).map { String(format: "%02x", $0) }.joined()
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
