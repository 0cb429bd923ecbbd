import ControllerModel
import Foundation
import GRDB
import SplitPlaneProtocol

extension SQLiteStore {
    public func createToken(_ token: APIToken, hash: String) async throws {
        try await database.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", arguments: [token.name]) != nil {
                throw StoreError.conflict("a live token named \"\(token.name)\" exists; revoke it first or pick another name")
            }
            if let tenant = token.tenant { try Self.requireTenant(db, tenant) }
            try db.execute(sql: """
                INSERT INTO api_tokens (id, name, role, tenant, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [token.id, token.name, token.role.rawValue, token.tenant, hash, token.createdAt.timeIntervalSince1970, token.createdBy])
        }
    }

    public func tokens() async throws -> [APIToken] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY created_at, id").map(Self.apiToken) }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", arguments: [hash]).map(Self.apiToken)
        }
    }

    public func revokeToken(id: String, at now: Date) async throws -> APIToken {
        try await database.write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("token \"\(id)\" not found")
            }
            return Self.apiToken(row)
        }
    }

    private static func apiToken(_ row: Row) -> APIToken {
        let revokedAt: Double? = row["revoked_at"]
        return APIToken(id: row["id"], name: row["name"], role: APIRole(rawValue: row["role"]) ?? .viewer, tenant: row["tenant"],
                        createdAt: date(row["created_at"]), createdBy: row["created_by"], revokedAt: revokedAt.map(date))
    }
}
