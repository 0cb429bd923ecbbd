import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Enrollment tokens (hashes only), issued certificates, revocation, service-account trust, the audit log.
extension SQLStore {
    public func createEnrollmentToken(tenant: String, environment: String, tokenHash: String, expiresAt: Date, at now: Date) async throws {
        try await database.write { db in
            try await Self.requireEnvironment(db, tenant, environment)
            try await db.execute(
                """
                INSERT INTO enrollment_tokens (token_hash, tenant, environment, created_at, expires_at)
                VALUES (\(tokenHash), \(tenant), \(environment), \(now), \(expiresAt))
                """)
        }
    }

    /// Marks the token used, atomically: of two enrollments presenting it at once, one wins.
    public func consumeEnrollmentToken(tokenHash: String, tenant: String, environment: String, at now: Date) async throws -> EnrollmentTokenUse {
        let dialect = self.dialect
        return try await database.write { db in
            guard let row = try await db.one("SELECT * FROM enrollment_tokens WHERE token_hash = \(tokenHash) \(raw: dialect.forUpdate)") else {
                return .unknown
            }
            if try row.optionalDate("used_at") != nil { return .alreadyUsed }
            if try row.date("expires_at") <= now { return .expired }
            if try row.get("tenant", as: String.self) != tenant || row.get("environment", as: String.self) != environment { return .otherEnvironment }
            try await db.execute("UPDATE enrollment_tokens SET used_at = \(now) WHERE token_hash = \(tokenHash)")
            return .valid
        }
    }

    public func recordCertificate(_ certificate: AgentCertificate, at now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                """
                INSERT INTO certificates (serial, tenant, environment, method, not_before, not_after, issued_at)
                VALUES (\(certificate.serial), \(certificate.tenant), \(certificate.environment), \(certificate.method), \(certificate.notBefore),
                        \(certificate.notAfter), \(now))
                """)
        }
    }

    public func certificates(tenant: String, environment: String) async throws -> [AgentCertificate] {
        try await database.read { db in
            try await db.rows("SELECT * FROM certificates WHERE tenant = \(tenant) AND environment = \(environment) ORDER BY issued_at DESC, serial")
                .map(Self.certificate)
        }
    }

    public func revocation(serial: String, tenant: String, environment: String, notBefore: Date) async throws -> String? {
        try await database.read { db in
            if let row = try await db.one("SELECT revoked_at FROM certificates WHERE serial = \(serial)") {
                // Issued here: revoking the environment revoked it too, so its own record says it all.
                return try row.optionalDate("revoked_at").map { "certificate \(serial) was revoked at \(Timestamp.format($0))" }
            }
            // Made elsewhere (the development PKI): only an environment revocation can catch it, by age.
            if let revokedAt = try await db.scalar(
                """
                SELECT revoked_at FROM environments WHERE tenant = \(tenant) AND name = \(environment) AND revoked_at IS NOT NULL
                """, as: Date.self), notBefore <= revokedAt
            {
                return "environment \(tenant)/\(environment) was revoked at \(Timestamp.format(revokedAt)); enroll again"
            }
            return nil
        }
    }

    public func revokeEnvironment(tenant: String, environment: String, at now: Date) async throws {
        try await writeAnnouncing { db, announcements in
            let updated = try await db.count("UPDATE environments SET revoked_at = \(now) WHERE tenant = \(tenant) AND name = \(environment) RETURNING 1")
            guard updated > 0 else { throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"") }
            try await db.execute(
                """
                UPDATE certificates SET revoked_at = \(now) WHERE tenant = \(tenant) AND environment = \(environment) AND revoked_at IS NULL
                """)
            announcements.add(.revoked(tenant: tenant, environment: environment))
        }
    }

    public func revokeCertificate(serial: String, at now: Date) async throws -> AgentCertificate {
        try await writeAnnouncing { db, announcements in
            try await db.execute("UPDATE certificates SET revoked_at = COALESCE(revoked_at, \(now)) WHERE serial = \(serial)")
            guard let row = try await db.one("SELECT * FROM certificates WHERE serial = \(serial)") else {
                throw StoreError.notFound("no certificate with serial \(serial) was issued by this controller")
            }
            let certificate = try Self.certificate(row)
            // Held long polls of its environment check their caller again.
            announcements.add(.revoked(tenant: certificate.tenant, environment: certificate.environment))
            return certificate
        }
    }

    public func setServiceAccountTrust(tenant: String, environment: String, _ trust: ServiceAccountTrust?, at now: Date) async throws {
        let encoded = try trust.map { try Self.json($0) }
        try await database.write { db in
            try await Self.requireEnvironment(db, tenant, environment)
            if let encoded {
                try await db.execute(
                    """
                    INSERT INTO service_account_trust (tenant, environment, trust, updated_at) VALUES (\(tenant), \(environment), \(encoded), \(now))
                    ON CONFLICT (tenant, environment) DO UPDATE SET trust = excluded.trust, updated_at = excluded.updated_at
                    """)
            } else {
                try await db.execute("DELETE FROM service_account_trust WHERE tenant = \(tenant) AND environment = \(environment)")
            }
        }
    }

    public func serviceAccountTrust(tenant: String, environment: String) async throws -> ServiceAccountTrust? {
        try await database.read { db in
            try await db.scalar("SELECT trust FROM service_account_trust WHERE tenant = \(tenant) AND environment = \(environment)", as: String.self)
                .map { try Self.decode(ServiceAccountTrust.self, $0) }
        }
    }

    public func audit(_ entry: AuditEntry) async throws {
        try await database.write { db in
            try await db.execute(
                """
                INSERT INTO audit_log (at, actor, action, target, result, address, detail)
                VALUES (\(entry.at), \(entry.actor), \(entry.action), \(entry.target), \(entry.result), \(entry.address), \(entry.detail))
                """)
        }
    }

    public func auditRecords(limit: Int, before: Int64?) async throws -> [AuditRecord] {
        try await database.read { db in
            try await db.rows("SELECT * FROM audit_log WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)").map { row in
                AuditRecord(
                    id: try row.get("id"), at: try row.date("at"), actor: try row.get("actor"), action: try row.get("action"),
                    target: try row.get("target"), result: try row.get("result"), address: try row.get("address", as: String?.self),
                    detail: try row.get("detail", as: String?.self))
            }
        }
    }

    // MARK: API tokens

    public func createToken(_ token: APIToken, hash: String) async throws {
        try await database.write { db in
            if try await db.exists("SELECT 1 FROM api_tokens WHERE name = \(token.name) AND revoked_at IS NULL") {
                throw StoreError.conflict("a live token named \"\(token.name)\" exists; revoke it first or pick another name")
            }
            if let tenant = token.tenant { try await Self.requireTenant(db, tenant) }
            try await db.execute(
                """
                INSERT INTO api_tokens (id, name, role, tenant, token_hash, created_at, created_by)
                VALUES (\(token.id), \(token.name), \(token.role.rawValue), \(token.tenant), \(hash), \(token.createdAt), \(token.createdBy))
                """)
        }
    }

    public func tokens() async throws -> [APIToken] {
        try await database.read { db in try await db.rows("SELECT * FROM api_tokens ORDER BY created_at, id").map(Self.apiToken) }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await database.read { db in
            try await db.one("SELECT * FROM api_tokens WHERE token_hash = \(hash) AND revoked_at IS NULL").map(Self.apiToken)
        }
    }

    public func revokeToken(id: String, at now: Date) async throws -> APIToken {
        try await database.write { db in
            try await db.execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id)")
            guard let row = try await db.one("SELECT * FROM api_tokens WHERE id = \(id)") else { throw StoreError.notFound("token \"\(id)\" not found") }
            return try Self.apiToken(row)
        }
    }
}
