import Foundation

/// What an operator API token may do.
public enum APIRole: String, Codable, Sendable, CaseIterable {
    /// Everything, including managing tokens.
    case admin
    /// Every tenant, every action except token management.
    case `operator`
    /// One tenant: read and change it; other tenants do not exist for it.
    case editor
    /// One tenant: read only.
    case viewer

    public var isTenantScoped: Bool { self == .editor || self == .viewer }
}

/// Body of `POST /v1/tokens`.
public struct APITokenRequest: Codable, Equatable, Sendable {
    public var name: String
    public var role: APIRole
    /// Required for `editor` and `viewer`; refused for the others.
    public var tenant: String?

    public init(name: String, role: APIRole, tenant: String? = nil) {
        self.name = name
        self.role = role
        self.tenant = tenant
    }

    public func validate() throws(ValidationError) {
        try ResourceName.validate(name, field: "name")
        switch (role.isTenantScoped, tenant) {
        case (true, nil): throw ValidationError(field: "tenant", reason: "required for role \(role.rawValue)")
        case (true, let tenant?): try ResourceName.validate(tenant, field: "tenant")
        case (false, nil): break
        case (false, _?): throw ValidationError(field: "tenant", reason: "only editor and viewer tokens are tenant-scoped")
        }
    }
}

/// A token as listed: never its secret.
public struct APIToken: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "APIToken"
    public var id: String
    public var name: String
    public var role: APIRole
    public var tenant: String?
    public var createdAt: Date
    public var createdBy: String
    public var revokedAt: Date?
    /// Only in the answer to `POST /v1/tokens`, once.
    public var token: String?

    public init(id: String, name: String, role: APIRole, tenant: String?, createdAt: Date, createdBy: String, revokedAt: Date?, token: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.tenant = tenant
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
        self.token = token
    }
}
