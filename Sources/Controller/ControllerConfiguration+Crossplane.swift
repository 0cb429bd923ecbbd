import Foundation
import KubernetesAPI
import ServiceSupport
import SplitPlaneProtocol

extension ControllerConfiguration {
    /// `--crossplane-kubeconfig` and the `--managed-agent-…` flags; nil without a Crossplane cluster.
    static func crossplane(
        _ setting: (String) -> String?, _ reader: SettingsReader, _ configuration: ControllerConfiguration
    ) throws(ConfigurationError) -> CrossplaneSettings? {
        guard let source = setting("crossplaneKubeconfig") else { return nil }
        let connection: KubernetesConnection
        do {
            connection = source == "in-cluster" ? try KubernetesConnection.inCluster() : try KubernetesConnection.kubeconfig(path: source)
        } catch {
            throw ConfigurationError(setting: "crossplaneKubeconfig", reason: "\(error)")
        }
        func url(_ key: String) throws(ConfigurationError) -> String {
            let value = try reader.required(key)
            guard value.hasPrefix("https://"), URL(string: value)?.host != nil else {
                throw ConfigurationError(setting: key, reason: "must be an https:// URL the agent in the new cluster can reach")
            }
            return value
        }
        let repository = setting("managedAgentChartRepository") ?? "oci://ghcr.io/qbeast/charts"
        guard repository.hasPrefix("https://") || repository.hasPrefix("oci://") else {
            throw ConfigurationError(setting: "managedAgentChartRepository", reason: "must start with https:// or oci://")
        }
        let bundlePath = setting("managedAgentCaBundle") ?? configuration.tls.trustBundle
        let bundle = try reader.fileContents(bundlePath, "managedAgentCaBundle")
        guard bundle.contains("-----BEGIN CERTIFICATE-----") else {
            throw ConfigurationError(setting: "managedAgentCaBundle", reason: "\(bundlePath) holds no PEM certificate")
        }
        var settings = CrossplaneSettings(
            connection: connection,
            agent: ManagedAgentSettings(
                chartRepository: repository, chartVersion: setting("managedAgentChartVersion") ?? BuildVersion.current,
                controllerURL: try url("managedAgentControllerUrl"), enrollURL: try url("managedAgentEnrollUrl"), caBundle: bundle,
                trustDomain: configuration.trustDomain))
        if let prefix = setting("crossplaneNamespacePrefix") {
            do { try ResourceName.validate(prefix + "t", field: "crossplaneNamespacePrefix") } catch {
                throw ConfigurationError(setting: "crossplaneNamespacePrefix", reason: error.reason)
            }
            settings.namespacePrefix = prefix
        }
        settings.resync = try reader.duration("crossplaneResync", settings.resync, minimum: .seconds(1))
        return settings
    }
}
