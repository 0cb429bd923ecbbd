import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Rows as the store's types.
extension SQLStore {
    static func tenant(_ row: SQLRow) throws -> Tenant {
        Tenant(name: try row.get("name"), displayName: try row.get("display_name", as: String?.self), createdAt: try row.date("created_at"))
    }

    static func environment(_ row: SQLRow) throws -> Environment {
        let facts = try row.get("agent_facts", as: String?.self)
        guard let cloud = Cloud(rawValue: try row.get("cloud")), let mode = EnvironmentMode(rawValue: try row.get("mode")) else {
            throw SQLError("an environment row has an unknown cloud or mode")
        }
        return Environment(
            tenant: try row.get("tenant"), name: try row.get("name"), cloud: cloud, mode: mode,
            desiredRevision: try row.get("desired_revision"), createdAt: try row.date("created_at"),
            agent: try facts.map { try decode(AgentFacts.self, $0) }, agentLastSeen: try row.optionalDate("agent_last_seen"),
            namespace: try row.get("namespace"), registry: try row.get("registry", as: String?.self),
            cloudAccess: try row.get("cloud_access", as: String?.self).map { try decode(CloudAccess.self, $0) },
            provisioning: try row.get("provisioning", as: String?.self).map { try decode(Provisioning.self, $0) })
    }

    static func workspace(_ row: SQLRow) throws -> Workspace {
        let status = try row.get("status", as: String?.self)
        return Workspace(
            tenant: try row.get("tenant"), environment: try row.get("environment"), name: try row.get("name"),
            generation: try row.get("generation"), spec: try decode(WorkspaceSpec.self, try row.get("spec")),
            status: try status.map { try decode(ReportedWorkspaceStatus.self, $0) },
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func alert(_ row: SQLRow) throws -> StoredAlert {
        StoredAlert(
            tenant: try row.get("tenant"), environment: try row.get("environment"), workspace: try row.get("workspace"),
            fingerprint: try row.get("fingerprint"), state: AlertState(rawValue: try row.get("state")) ?? .firing,
            labels: try decode([String: String].self, try row.get("labels")),
            annotations: try decode([String: String].self, try row.get("annotations")),
            startsAt: try row.date("starts_at"), endsAt: try row.optionalDate("ends_at"), value: try row.get("value", as: Double?.self),
            receivedAt: try row.date("received_at"))
    }

    static func silence(_ row: SQLRow, at now: Date) throws -> Silence {
        let startsAt = try row.date("starts_at")
        let endsAt = try row.date("ends_at")
        return Silence(
            id: try row.get("id"), matchers: try decode([String].self, try row.get("matchers")), startsAt: startsAt, endsAt: endsAt,
            createdBy: try row.get("created_by"), comment: try row.get("comment"), createdAt: try row.date("created_at"),
            state: Silence.state(startsAt: startsAt, endsAt: endsAt, at: now))
    }

    static func certificate(_ row: SQLRow) throws -> AgentCertificate {
        AgentCertificate(
            serial: try row.get("serial"), tenant: try row.get("tenant"), environment: try row.get("environment"),
            method: try row.get("method"), notBefore: try row.date("not_before"), notAfter: try row.date("not_after"),
            revokedAt: try row.optionalDate("revoked_at"))
    }

    static func apiToken(_ row: SQLRow) throws -> APIToken {
        APIToken(
            id: try row.get("id"), name: try row.get("name"), role: APIRole(rawValue: try row.get("role")) ?? .viewer,
            tenant: try row.get("tenant", as: String?.self), createdAt: try row.date("created_at"), createdBy: try row.get("created_by"),
            revokedAt: try row.optionalDate("revoked_at"))
    }
}
