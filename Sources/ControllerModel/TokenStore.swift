import Foundation
import SplitPlaneProtocol

/// Operator API tokens: hashes only, never the secrets.
public protocol TokenStore: Sendable {
    func createToken(_ token: APIToken, hash: String) async throws
    func tokens() async throws -> [APIToken]
    /// The live (not revoked) token with this hash.
    func token(hash: String) async throws -> APIToken?
    /// `StoreError.notFound` for an unknown id.
    func revokeToken(id: String, at now: Date) async throws -> APIToken
}
