import Foundation
import KubernetesAPI

/// How the controller reaches the Crossplane cluster and what it tells Crossplane to install in a
/// managed environment's new cluster (`--crossplane-kubeconfig` and the `--managed-agent-…` flags).
public struct CrossplaneSettings: Sendable {
    /// The Crossplane cluster: a kubeconfig file, or the pod's own service account.
    public var connection: KubernetesConnection
    /// Namespace per tenant on the Crossplane cluster: `<prefix><tenant>`.
    public var namespacePrefix = "qbeast-"
    /// How often every managed environment is looked at again (the XR and its composed resources).
    public var resync: Duration = .seconds(30)
    /// Longest wait after repeated failures to reach Crossplane (the wait doubles from `resync / 8`).
    public var maxBackoff: Duration = .seconds(300)
    /// Lifetime of the hand-over enrollment token; a fresh one is written when it expires unused.
    public var tokenLifetime: TimeInterval = 15 * 60
    public var agent: ManagedAgentSettings

    public init(connection: KubernetesConnection, agent: ManagedAgentSettings) {
        self.connection = connection
        self.agent = agent
    }

    public func namespace(tenant: String) -> String { namespacePrefix + tenant }
}

/// The `spec.agent` of every XR: where the agent chart comes from and how the agent reaches the controller.
public struct ManagedAgentSettings: Sendable, Equatable {
    public var chartRepository: String
    public var chartName = "qbeast-agent"
    public var chartVersion: String
    public var controllerURL: String
    public var enrollURL: String
    /// PEM of the CA the controller's server certificate chains to (public).
    public var caBundle: String
    public var trustDomain: String
    public var namespace = "qbeast-agent"

    public init(chartRepository: String, chartVersion: String, controllerURL: String, enrollURL: String, caBundle: String, trustDomain: String) {
        self.chartRepository = chartRepository
        self.chartVersion = chartVersion
        self.controllerURL = controllerURL
        self.enrollURL = enrollURL
        self.caBundle = caBundle
        self.trustDomain = trustDomain
    }
}
