import Foundation
import SplitPlaneProtocol

/// Sign-in for support staff with bearer JWTs from the company's identity provider (OIDC ID or
/// access tokens): who may do what comes from one claim, mapped to the API roles.
public struct OIDCSettings: Sendable {
    public enum KeySource: Sendable, Equatable {
        /// A JWKS document on disk (re-read when a token names a key it lacks).
        case file(String)
        /// The provider's `jwks_uri`, fetched at start, hourly, and when a token names an unknown key.
        case url(String)
    }

    public var issuer: String
    public var audience: String
    public var keys: KeySource
    /// Claim holding the caller's groups or roles: a string or an array of strings. Default `groups`.
    public var roleClaim = "groups"
    /// Claim naming the caller in the audit log. Default `email`, falling back to `sub`.
    public var nameClaim = "email"
    /// Claim value → role. Without mappings a claim value is read as a role itself
    /// (`admin`, `operator`, `editor:<tenant>`, `viewer:<tenant>`).
    public var roleMappings: [RoleMapping] = []

    public init(issuer: String, audience: String, keys: KeySource) {
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
    }

    public struct RoleMapping: Sendable, Equatable {
        public var claimValue: String
        public var role: APIRole
        public var tenant: String?

        /// `<claim value>=<role>[:<tenant>]`, e.g. `qbeast-sre=admin`, `acme-analysts=viewer:acme`.
        public init(parsing text: String) throws(ValidationError) {
            guard let equals = text.lastIndex(of: "="), equals != text.startIndex else {
                throw ValidationError(field: "oidcRole", reason: "\"\(text)\" is not <claim value>=<role>[:<tenant>]")
            }
            claimValue = String(text[..<equals])
            (role, tenant) = try Self.role(String(text[text.index(after: equals)...]), field: "oidcRole")
        }

        /// `admin`, `operator`, `editor:<tenant>` or `viewer:<tenant>`.
        static func role(_ text: String, field: String) throws(ValidationError) -> (APIRole, String?) {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard let role = parts.first.flatMap(APIRole.init(rawValue:)) else {
                throw ValidationError(field: field, reason: "\"\(text)\": the role is one of admin, operator, editor:<tenant>, viewer:<tenant>")
            }
            let tenant = parts.count == 2 ? parts[1] : nil
            if role.isTenantScoped {
                guard let tenant else {
                    throw ValidationError(field: field, reason: "\"\(text)\": \(role.rawValue) needs a tenant (\(role.rawValue):<tenant>)")
                }
                try ResourceName.validate(tenant, field: field)
            } else if tenant != nil {
                throw ValidationError(field: field, reason: "\"\(text)\": \(role.rawValue) spans every tenant and takes none")
            }
            return (role, tenant)
        }
    }

    /// The strongest role the claim values grant, or nil when none maps.
    func role(for values: [String]) -> (APIRole, String?)? {
        let granted: [(APIRole, String?)] =
            roleMappings.isEmpty
            ? values.compactMap { try? RoleMapping.role($0, field: "") }
            : roleMappings.filter { values.contains($0.claimValue) }.map { ($0.role, $0.tenant) }
        let strength: [APIRole] = [.admin, .operator, .editor, .viewer]
        return granted.min { strength.firstIndex(of: $0.0)! < strength.firstIndex(of: $1.0)! }
    }
}
