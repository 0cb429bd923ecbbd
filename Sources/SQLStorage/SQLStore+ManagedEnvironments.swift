import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Managed environments: cloud access and the provisioner's view of the Crossplane XR, both JSON columns
/// of `environments`.
extension SQLStore {
    public func setCloudAccess(tenant: String, name: String, _ access: CloudAccess) async throws -> Environment {
        let dialect = self.dialect
        let text = try Self.json(access)
        return try await database.write { db in
            try await Self.requireEnvironment(db, tenant, name, lock: dialect.forUpdate)
            try await db.execute("UPDATE environments SET cloud_access = \(text) WHERE tenant = \(tenant) AND name = \(name) AND mode = 'managed'")
            let environment = try Self.environment(try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)")!)
            guard environment.mode == .managed else {
                throw StoreError.conflict("environment \"\(name)\" is provided: only a managed environment takes cloud access")
            }
            return environment
        }
    }

    public func managedEnvironments() async throws -> [Environment] {
        try await database.read { db in
            try await db.rows("SELECT * FROM environments WHERE mode = 'managed' ORDER BY tenant, name").map(Self.environment)
        }
    }

    public func recordProvisioning(tenant: String, name: String, _ provisioning: Provisioning) async throws {
        let dialect = self.dialect
        try await database.write { db in
            guard let row = try await db.one("SELECT provisioning FROM environments WHERE tenant = \(tenant) AND name = \(name) \(raw: dialect.forUpdate)")
            else { return }
            var updated = provisioning
            if let current = try row.get("provisioning", as: String?.self).map({ try Self.decode(Provisioning.self, $0) }) {
                updated.deprovisionRequestedAt = current.deprovisionRequestedAt ?? provisioning.deprovisionRequestedAt
            }
            let text = try Self.json(updated)
            try await db.execute("UPDATE environments SET provisioning = \(text) WHERE tenant = \(tenant) AND name = \(name)")
        }
    }

    public func requestDeprovision(tenant: String, name: String, at now: Date) async throws -> Environment {
        let dialect = self.dialect
        return try await database.write { db in
            try await Self.requireEnvironment(db, tenant, name, lock: dialect.forUpdate)
            var environment = try Self.environment(try await db.one("SELECT * FROM environments WHERE tenant = \(tenant) AND name = \(name)")!)
            guard environment.mode == .managed else {
                throw StoreError.conflict("environment \"\(name)\" is provided: Qbeast never deprovisions it")
            }
            var provisioning = environment.provisioning ?? Provisioning()
            guard provisioning.deprovisionRequestedAt == nil else { return environment }
            provisioning.deprovisionRequestedAt = now
            provisioning.conditions.set(
                Condition(
                    type: Provisioning.deprovisioningCondition, status: .true, reason: "Requested",
                    message: "deletion confirmed; the Crossplane XR is being deleted", lastTransitionTime: now))
            let text = try Self.json(provisioning)
            try await db.execute("UPDATE environments SET provisioning = \(text) WHERE tenant = \(tenant) AND name = \(name)")
            environment.provisioning = provisioning
            return environment
        }
    }
}
