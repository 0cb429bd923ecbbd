/// What a fixture's controller holds before the test starts: the setups many tests share, each
/// request checked (`mustSucceed`) so a broken setup fails there, not as a puzzling assertion later.
public enum FixtureSeed: Sendable {
    case empty
    /// Tenant `acme` with environment `prod` (aws, provided).
    case acmeProd
    /// `acme/prod` with the empty workspace `analytics`, which an agent's status and alerts can name.
    case acmeProdAnalytics
    /// `acme/prod` with workspace `analytics` (no components), and `globex/staging`.
    case twoTenants

    func apply(to fixture: ControllerFixture) async throws {
        switch self {
        case .empty:
            break
        case .acmeProd:
            try await Self.environment("acme", "prod", fixture)
        case .acmeProdAnalytics:
            try await Self.environment("acme", "prod", fixture)
            try await fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{}}"#)
        case .twoTenants:
            try await Self.environment("acme", "prod", fixture)
            try await Self.environment("globex", "staging", fixture)
            try await fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{"components":[]}}"#)
        }
    }

    /// A new tenant with one environment (aws, provided).
    private static func environment(_ tenant: String, _ environment: String, _ fixture: ControllerFixture) async throws {
        try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"\#(tenant)"}"#)
        try await fixture.mustSucceed(.POST, "/v1/tenants/\(tenant)/environments", json: #"{"name":"\#(environment)","cloud":"aws","mode":"provided"}"#)
    }
}
