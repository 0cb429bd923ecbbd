import ControllerModel
import Foundation
import Logging
import PostgresNIO
import SplitPlaneProtocol

extension PostgresStore {
    public func createEnrollmentToken(tenant: String, environment: String, tokenHash: String, expiresAt: Date, at now: Date) async throws {
        try await client.transaction(logger) { db in
            guard try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment)", logger) else {
                throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
            }
            try await db.run("""
                INSERT INTO enrollment_tokens (token_hash, tenant, environment, created_at, expires_at)
                VALUES (\(tokenHash), \(tenant), \(environment), \(now.timeIntervalSince1970), \(expiresAt.timeIntervalSince1970))
                """, logger)
        }
    }

    /// The token's row is locked while it is judged: two replicas presenting it at once use it once.
    public func consumeEnrollmentToken(tokenHash: String, tenant: String, environment: String, at now: Date) async throws -> EnrollmentTokenUse {
        try await client.transaction(logger) { db in
            guard let row = try await db.one("SELECT * FROM enrollment_tokens WHERE token_hash = \(tokenHash) FOR UPDATE", logger) else {
                return .unknown
            }
            if try row.get("used_at", Double?.self) != nil { return .alreadyUsed }
            if try row.get("expires_at", Double.self) <= now.timeIntervalSince1970 { return .expired }
            if try row.get("tenant", String.self) != tenant || row.get("environment", String.self) != environment { return .otherEnvironment }
            try await db.run("UPDATE enrollment_tokens SET used_at = \(now.timeIntervalSince1970) WHERE token_hash = \(tokenHash)", logger)
            return .valid
        }
    }

    public func recordCertificate(_ certificate: AgentCertificate, at now: Date) async throws {
        _ = try await client.withConnection { db in
            try await db.run("""
                INSERT INTO certificates (serial, tenant, environment, method, not_before, not_after, issued_at)
                VALUES (\(certificate.serial), \(certificate.tenant), \(certificate.environment), \(certificate.method),
                        \(certificate.notBefore.timeIntervalSince1970), \(certificate.notAfter.timeIntervalSince1970), \(now.timeIntervalSince1970))
                """, logger)
        }
    }

    public func certificates(tenant: String, environment: String) async throws -> [AgentCertificate] {
        try await client.withConnection { db in
            try await db.rows("SELECT * FROM certificates WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY issued_at DESC, serial", logger)
                .map(Self.certificate)
        }
    }

    public func revocation(serial: String, tenant: String, environment: String, notBefore: Date) async throws -> String? {
        try await client.withConnection { db in
            if let row = try await db.one("SELECT revoked_at FROM certificates WHERE serial = \(serial)", logger) {
                return try row.optionalDate("revoked_at").map { "certificate \(serial) was revoked at \(Timestamp.format($0))" }
            }
            if let row = try await db.one("""
                SELECT revoked_at FROM environments WHERE tenant = \(tenant) AND name = \(environment) AND revoked_at IS NOT NULL
                """, logger) {
                let revokedAt = try row.get("revoked_at", Double.self)
                if notBefore.timeIntervalSince1970 <= revokedAt {
                    return "environment \(tenant)/\(environment) was revoked at \(Timestamp.format(Date(timeIntervalSince1970: revokedAt))); enroll again"
                }
            }
            return nil
        }
    }

    public func revokeEnvironment(tenant: String, environment: String, at now: Date) async throws {
        try await client.transaction(logger) { db in
            let updated = try await db.run("""
                UPDATE environments SET revoked_at = \(now.timeIntervalSince1970) WHERE tenant = \(tenant) AND name = \(environment) RETURNING 1
                """, logger)
            guard updated > 0 else { throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"") }
            try await db.run("""
                UPDATE certificates SET revoked_at = \(now.timeIntervalSince1970) WHERE tenant = \(tenant) AND environment = \(environment) AND revoked_at IS NULL
                """, logger)
            try await Self.announceRevocation(db, tenant, environment, logger)
        }
    }

    public func revokeCertificate(serial: String, at now: Date) async throws -> AgentCertificate {
        try await client.transaction(logger) { db in
            guard let row = try await db.one("""
                UPDATE certificates SET revoked_at = COALESCE(revoked_at, \(now.timeIntervalSince1970)) WHERE serial = \(serial) RETURNING *
                """, logger) else {
                throw StoreError.notFound("no certificate with serial \(serial) was issued by this controller")
            }
            let certificate = try Self.certificate(row)
            try await Self.announceRevocation(db, certificate.tenant, certificate.environment, logger)
            return certificate
        }
    }

    public func setServiceAccountTrust(tenant: String, environment: String, _ trust: ServiceAccountTrust?, at now: Date) async throws {
        let encoded = try trust.map { try Self.json($0) }
        try await client.transaction(logger) { db in
            guard try await db.exists("SELECT 1 FROM environments WHERE tenant = \(tenant) AND name = \(environment)", logger) else {
                throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
            }
            if let encoded {
                try await db.run("""
                    INSERT INTO service_account_trust (tenant, environment, trust, updated_at) VALUES (\(tenant), \(environment), \(encoded), \(now.timeIntervalSince1970))
                    ON CONFLICT (tenant, environment) DO UPDATE SET trust = excluded.trust, updated_at = excluded.updated_at
                    """, logger)
            } else {
                try await db.run("DELETE FROM service_account_trust WHERE tenant = \(tenant) AND environment = \(environment)", logger)
            }
        }
    }

    public func serviceAccountTrust(tenant: String, environment: String) async throws -> ServiceAccountTrust? {
        try await client.withConnection { db in
            try await db.one("SELECT trust FROM service_account_trust WHERE tenant = \(tenant) AND environment = \(environment)", logger)
                .map { try Self.decode(ServiceAccountTrust.self, try $0.get("trust", String.self)) }
        }
    }

    public func audit(_ entry: AuditEntry) async throws {
        _ = try await client.withConnection { db in
            try await db.run("""
                INSERT INTO audit_log (at, actor, action, target, result, address, detail)
                VALUES (\(entry.at.timeIntervalSince1970), \(entry.actor), \(entry.action), \(entry.target), \(entry.result), \(entry.address), \(entry.detail))
                """, logger)
        }
    }

    public func auditRecords(limit: Int, before: Int64?) async throws -> [AuditRecord] {
        try await client.withConnection { db in
            try await db.rows("SELECT * FROM audit_log WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)", logger).map { row in
                AuditRecord(id: try row.get("id"), at: try row.date("at"), actor: try row.get("actor"), action: try row.get("action"),
                            target: try row.get("target"), result: try row.get("result"), address: try row.get("address", String?.self),
                            detail: try row.get("detail", String?.self))
            }
        }
    }

    private static func certificate(_ row: PGRow) throws -> AgentCertificate {
        AgentCertificate(serial: try row.get("serial"), tenant: try row.get("tenant"), environment: try row.get("environment"),
                         method: try row.get("method"), notBefore: try row.date("not_before"), notAfter: try row.date("not_after"),
                         revokedAt: try row.optionalDate("revoked_at"))
    }
}
