import ControllerModel
import Foundation
import Logging
import PostgresNIO
import SplitPlaneProtocol

extension PostgresStore {
    public func createToken(_ token: APIToken, hash: String) async throws {
        try await client.transaction(logger) { db in
            // Serialises token creation so two replicas cannot both create a live token of one name.
            try await db.run("LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE", logger)
            if try await db.exists("SELECT 1 FROM api_tokens WHERE name = \(token.name) AND revoked_at IS NULL", logger) {
                throw StoreError.conflict("a live token named \"\(token.name)\" exists; revoke it first or pick another name")
            }
            if let tenant = token.tenant { try await Self.requireTenant(db, tenant, logger) }
            try await db.run("""
                INSERT INTO api_tokens (id, name, role, tenant, token_hash, created_at, created_by)
                VALUES (\(token.id), \(token.name), \(token.role.rawValue), \(token.tenant), \(hash), \(token.createdAt.timeIntervalSince1970), \(token.createdBy))
                """, logger)
        }
    }

    public func tokens() async throws -> [APIToken] {
        try await client.withConnection { db in
            try await db.rows("SELECT * FROM api_tokens ORDER BY created_at, id", logger).map(Self.apiToken)
        }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await client.withConnection { db in
            try await db.one("SELECT * FROM api_tokens WHERE token_hash = \(hash) AND revoked_at IS NULL", logger).map(Self.apiToken)
        }
    }

    public func revokeToken(id: String, at now: Date) async throws -> APIToken {
        try await client.transaction(logger) { db in
            guard let row = try await db.one("""
                UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, \(now.timeIntervalSince1970)) WHERE id = \(id) RETURNING *
                """, logger) else {
                throw StoreError.notFound("token \"\(id)\" not found")
            }
            return try Self.apiToken(row)
        }
    }

    private static func apiToken(_ row: PGRow) throws -> APIToken {
        APIToken(id: try row.get("id"), name: try row.get("name"), role: APIRole(rawValue: try row.get("role")) ?? .viewer,
                 tenant: try row.get("tenant", String?.self), createdAt: try row.date("created_at"), createdBy: try row.get("created_by"),
                 revokedAt: try row.optionalDate("revoked_at"))
    }
}
