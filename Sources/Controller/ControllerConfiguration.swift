import Foundation
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS

/// Everything `qbeast-controller serve` can be told, with development-friendly defaults (loopback only).
public struct ControllerConfiguration: Sendable {
    public var operatorListen = ListenAddress(host: "127.0.0.1", port: 8443)
    public var agentListen = ListenAddress(host: "127.0.0.1", port: 8444)
    public var metricsListen = ListenAddress(host: "127.0.0.1", port: 9090)
    /// Enrollment (`POST /enroll/v1`): TLS without client certificates.
    public var enrollListen = ListenAddress(host: "127.0.0.1", port: 8445)
    /// The CA that issues agent certificates (PEM certificate and key). Without it the controller
    /// issues nothing: no enrollment, no renewal; agents bring certificates made elsewhere.
    public var issuingCA: (certificate: String, privateKey: String)?
    public var agentCertificateLifetime: TimeInterval = 24 * 3600
    /// The audience agents' projected service-account tokens must be issued for.
    public var enrollmentAudience = "qbeast-controller"
    /// What the onboarding templates name as Qbeast's control plane.
    public var onboarding = OnboardingSettings(
        controlPlaneRoleARN: "arn:aws:iam::111122223333:role/qbeast-control-plane",
        oidcIssuer: "https://oidc.qbeast.io", externalIDKey: Data("development".utf8))
    /// Server certificate and key for both TLS listeners; `trustBundle` verifies agent certificates.
    public var tls: TLSFiles
    public var trustDomain = "qbeast.dev"
    public var databasePath: String
    /// Operator bearer tokens accepted with full rights (role-based tokens come later).
    public var adminTokens: [String]
    /// Sign-in for support staff with JWTs from the company's identity provider.
    public var oidc: OIDCSettings?
    public var bodyLimit = JSONBodies.defaultLimit
    /// Shape of the alerts the gateway accepts; handed to agents with their desired state.
    public var alertLimits = AlertLimits.default
    public var maxPollTimeout: Duration = .seconds(30)
    /// How often the last-seen times of unchanged heartbeats are written (all agents in one transaction).
    public var lastSeenFlushInterval: Duration = .seconds(15)
    /// Agents per second asked to come back after a shutdown (their held polls are answered `503` with
    /// a `Retry-After` spread over waiting agents / pace seconds, 1–60).
    public var reconnectPace = 1000
    /// Alert routing YAML; without it alerts are grouped and kept but nothing is sent.
    public var routingConfigPath: String?
    /// Slack app signing secret; enables `POST /slack/interactions` (the Acknowledge button).
    public var slackSigningSecret: String?
    /// The helm binary chart components are rendered with; nil: the first `helm` on `helmSearchPath`.
    public var helmBinary: String?
    /// Where `helm` is looked for when `helmBinary` is not set (colon-separated, like `PATH`).
    public var helmSearchPath: String? = ProcessInfo.processInfo.environment["PATH"]
    /// Longest a `helm template` may run.
    public var helmTimeout: Duration = .seconds(120)
    /// Timeouts and connection caps of each listener.
    public var operatorLimits = ConnectionLimits(maxConnections: 1024)
    public var agentLimits = ConnectionLimits(maxConnections: 65_536, maxConnectionsPerCertificate: 16)
    public var enrollLimits = ConnectionLimits(maxConnections: 256)
    /// Managed environments are provisioned through this Crossplane cluster; nil: stored, not provisioned.
    public var crossplane: CrossplaneSettings?

    public init(tls: TLSFiles, databasePath: String, adminTokens: [String]) {
        self.tls = tls
        self.databasePath = databasePath
        self.adminTokens = adminTokens
    }
}
