import ControllerModel
import Foundation
import GRDB
import SplitPlaneProtocol

extension SQLiteStore {
    public func createEnrollmentToken(tenant: String, environment: String, tokenHash: String, expiresAt: Date, at now: Date) async throws {
        try await database.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, environment]) != nil else {
                throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
            }
            try db.execute(sql: "INSERT INTO enrollment_tokens (token_hash, tenant, environment, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [tokenHash, tenant, environment, now.timeIntervalSince1970, expiresAt.timeIntervalSince1970])
        }
    }

    public func consumeEnrollmentToken(tokenHash: String, tenant: String, environment: String, at now: Date) async throws -> EnrollmentTokenUse {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrollment_tokens WHERE token_hash = ?", arguments: [tokenHash]) else {
                return .unknown
            }
            if (row["used_at"] as Double?) != nil { return .alreadyUsed }
            if (row["expires_at"] as Double) <= now.timeIntervalSince1970 { return .expired }
            if (row["tenant"] as String) != tenant || (row["environment"] as String) != environment { return .otherEnvironment }
            try db.execute(sql: "UPDATE enrollment_tokens SET used_at = ? WHERE token_hash = ?", arguments: [now.timeIntervalSince1970, tokenHash])
            return .valid
        }
    }

    public func recordCertificate(_ certificate: AgentCertificate, at now: Date) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO certificates (serial, tenant, environment, method, not_before, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [certificate.serial, certificate.tenant, certificate.environment, certificate.method,
                                 certificate.notBefore.timeIntervalSince1970, certificate.notAfter.timeIntervalSince1970, now.timeIntervalSince1970])
        }
    }

    public func certificates(tenant: String, environment: String) async throws -> [AgentCertificate] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM certificates WHERE tenant = ? AND environment = ? ORDER BY issued_at DESC, serial",
                             arguments: [tenant, environment]).map(Self.certificate)
        }
    }

    public func revocation(serial: String, tenant: String, environment: String, notBefore: Date) async throws -> String? {
        try await database.read { db in
            if let row = try Row.fetchOne(db, sql: "SELECT revoked_at FROM certificates WHERE serial = ?", arguments: [serial]) {
                // Issued here: revoking the environment revoked it too, so its own record says it all.
                return (row["revoked_at"] as Double?).map { "certificate \(serial) was revoked at \(Timestamp.format(Self.date($0)))" }
            }
            // Made elsewhere (the development PKI): only an environment revocation can catch it, by age.
            if let revokedAt = try Double.fetchOne(db, sql: "SELECT revoked_at FROM environments WHERE tenant = ? AND name = ? AND revoked_at IS NOT NULL",
                                                   arguments: [tenant, environment]),
               notBefore.timeIntervalSince1970 <= revokedAt {
                return "environment \(tenant)/\(environment) was revoked at \(Timestamp.format(Self.date(revokedAt))); enroll again"
            }
            return nil
        }
    }

    public func revokeEnvironment(tenant: String, environment: String, at now: Date) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE environments SET revoked_at = ? WHERE tenant = ? AND name = ?",
                           arguments: [now.timeIntervalSince1970, tenant, environment])
            guard db.changesCount > 0 else { throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"") }
            try db.execute(sql: "UPDATE certificates SET revoked_at = ? WHERE tenant = ? AND environment = ? AND revoked_at IS NULL",
                           arguments: [now.timeIntervalSince1970, tenant, environment])
        }
    }

    public func revokeCertificate(serial: String, at now: Date) async throws -> AgentCertificate {
        try await database.write { db in
            try db.execute(sql: "UPDATE certificates SET revoked_at = COALESCE(revoked_at, ?) WHERE serial = ?", arguments: [now.timeIntervalSince1970, serial])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM certificates WHERE serial = ?", arguments: [serial]) else {
                throw StoreError.notFound("no certificate with serial \(serial) was issued by this controller")
            }
            return Self.certificate(row)
        }
    }

    public func setServiceAccountTrust(tenant: String, environment: String, _ trust: ServiceAccountTrust?, at now: Date) async throws {
        let encoded = try trust.map { try Self.json($0) }
        try await database.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM environments WHERE tenant = ? AND name = ?", arguments: [tenant, environment]) != nil else {
                throw StoreError.notFound("environment \"\(environment)\" not found in tenant \"\(tenant)\"")
            }
            if let encoded {
                try db.execute(sql: """
                    INSERT INTO service_account_trust (tenant, environment, trust, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (tenant, environment) DO UPDATE SET trust = excluded.trust, updated_at = excluded.updated_at
                    """, arguments: [tenant, environment, encoded, now.timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM service_account_trust WHERE tenant = ? AND environment = ?", arguments: [tenant, environment])
            }
        }
    }

    public func serviceAccountTrust(tenant: String, environment: String) async throws -> ServiceAccountTrust? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT trust FROM service_account_trust WHERE tenant = ? AND environment = ?", arguments: [tenant, environment])
                .map { try Self.decode(ServiceAccountTrust.self, $0) }
        }
    }

    public func audit(_ entry: AuditEntry) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO audit_log (at, actor, action, target, result, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [entry.at.timeIntervalSince1970, entry.actor, entry.action, entry.target, entry.result, entry.address, entry.detail])
        }
    }

    public func auditRecords(limit: Int, before: Int64?) async throws -> [AuditRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
                             arguments: [before ?? Int64.max, limit]).map { row in
                AuditRecord(id: row["id"], at: Self.date(row["at"]), actor: row["actor"], action: row["action"], target: row["target"],
                            result: row["result"], address: row["address"], detail: row["detail"])
            }
        }
    }

    private static func certificate(_ row: Row) -> AgentCertificate {
        let revokedAt: Double? = row["revoked_at"]
        return AgentCertificate(serial: row["serial"], tenant: row["tenant"], environment: row["environment"], method: row["method"],
                                notBefore: date(row["not_before"]), notAfter: date(row["not_after"]), revokedAt: revokedAt.map(date))
    }
}
