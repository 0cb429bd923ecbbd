import Foundation

/// `POST /v1/tenants`. The operator API's resources (`/v1/...`) are shared by the controller and `qbctl`.

public struct TenantRequest: Codable, Equatable, Sendable {
    public var name: String
    public var displayName: String?

    public init(name: String, displayName: String? = nil) {
        self.name = name
        self.displayName = displayName
    }

    public func validate() throws(ValidationError) {
        try ResourceName.validate(name, field: "name")
        if let displayName, displayName.count > 200 {
            throw ValidationError(field: "displayName", reason: "at most 200 characters")
        }
    }
}

public struct Tenant: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.operatorV1
    public var kind: String = "Tenant"
    public var name: String
    public var displayName: String?
    public var createdAt: Date

    public init(name: String, displayName: String?, createdAt: Date) {
        self.name = name
        self.displayName = displayName
        self.createdAt = createdAt
    }
}
