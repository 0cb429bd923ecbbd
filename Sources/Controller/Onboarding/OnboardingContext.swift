import Crypto
import Foundation
import SplitPlaneProtocol

/// Everything an onboarding template is filled with: the environment, where Qbeast's control plane
/// comes from (its AWS role, its OIDC issuer and the subject it presents for this environment), and
/// the customer's resource names (from query parameters, with defaults derived from the names).
public struct OnboardingContext: Sendable {
    public var tenant: String
    public var environment: String
    public var mode: EnvironmentMode
    /// AWS role of Qbeast's control plane that may assume the customer's role.
    public var controlPlaneRoleARN: String
    /// OIDC issuer of Qbeast's control plane (Azure federation, GCP workload identity).
    public var oidcIssuer: String
    /// Unique per environment; the customer's role trusts only requests carrying it.
    public var externalID: String
    public var parameters: [String: String]

    public init(
        tenant: String, environment: String, mode: EnvironmentMode, controlPlaneRoleARN: String, oidcIssuer: String,
        externalID: String, parameters: [String: String]
    ) {
        self.tenant = tenant
        self.environment = environment
        self.mode = mode
        self.controlPlaneRoleARN = controlPlaneRoleARN
        self.oidcIssuer = oidcIssuer
        self.externalID = externalID
        self.parameters = parameters
    }

    /// The subject Qbeast's control plane presents for this environment, pinned by Azure and GCP.
    public var subject: String { "qbeast:tenant:\(tenant):environment:\(environment)" }
    public var shortName: String { "qbeast-\(tenant)-\(environment)" }
    public var cluster: String { parameters["cluster"] ?? "\(tenant)-\(environment)" }
    public var bucketPrefix: String { parameters["bucketPrefix"] ?? shortName }

    /// Names the customer may set in the query; anything else is refused.
    public static let parameterNames: Set<String> = ["cluster", "bucketPrefix", "region", "resourceGroup", "storageAccount", "project", "location"]

    public static func validate(_ parameters: [String: String]) throws(ValidationError) {
        for (name, value) in parameters {
            guard parameterNames.contains(name) else {
                throw ValidationError(field: name, reason: "unknown parameter; known: \(parameterNames.sorted().joined(separator: ", "))")
            }
            // Values land inside templates: keep them to the characters cloud resource names use.
            guard !value.isEmpty, value.count <= 63, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
            else {
                throw ValidationError(field: name, reason: "must be 1 to 63 letters, digits, '-', '_' or '.'")
            }
        }
    }

    /// A stable external ID that cannot be guessed from the names: derived from a controller secret.
    public static func externalID(tenant: String, environment: String, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(tenant)/\(environment)".utf8), using: key)
        return "qbeast-" + Hex.encode(mac.prefix(16))
    }
}
