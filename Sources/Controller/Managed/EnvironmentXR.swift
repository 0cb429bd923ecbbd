import Crypto
import Foundation
import SplitPlaneProtocol

/// The `QbeastEnvironment` composite resource the controller applies for a managed environment, as
/// crossplane/README.md ("The XR contract") defines it. Sizes not recorded on the environment take the
/// package's documented defaults; names are derived the way the onboarding templates derive them.
enum EnvironmentXR {
    static let apiVersion = "platform.qbeast.io/v1alpha1"
    static let kind = "QbeastEnvironment"
    static let plural = "qbeastenvironments"
    static let fieldManager = "qbeast-controller"

    static func path(namespace: String, name: String? = nil) -> String {
        "/apis/platform.qbeast.io/v1alpha1/namespaces/\(namespace)/\(plural)" + (name.map { "/\($0)" } ?? "")
    }

    /// The Secret (in the XR's namespace, key `token`) the hand-over token is written to.
    static func tokenSecretName(environment: String) -> String { "\(environment)-enrollment-token" }

    static func build(
        _ environment: SplitPlaneProtocol.Environment, access: CloudAccess, namespace: String, agent: ManagedAgentSettings,
        onboarding: OnboardingSettings, handedOver: Bool
    ) -> JSONValue {
        let (tenant, name) = (environment.tenant, environment.name)
        var spec: [String: JSONValue] = [
            "crossplane": ["compositionSelector": ["matchLabels": ["platform.qbeast.io/cloud": .string(environment.cloud.rawValue)]]],
            "tenant": .string(tenant), "environment": .string(name), "cloud": .string(environment.cloud.rawValue),
            "region": .string(access.region),
            "network": [
                "cidr": "10.40.0.0/16", "subnetCidrs": ["10.40.0.0/19", "10.40.32.0/19"], "podCidr": "10.100.0.0/16",
                "serviceCidr": "10.101.0.0/20",
            ],
            "storage": ["bucketName": .string(bucketName(environment))],
        ]
        var cluster: [String: JSONValue] = ["kubernetesVersion": "1.33"]
        // The default cloud name `<tenant>-<environment>` is limited to 40 characters (the XRD's rule).
        if "\(tenant)-\(name)".count > 40 { cluster["name"] = .string(clusterName(tenant: tenant, environment: name)) }
        spec["cluster"] = .object(cluster)
        var agentSpec: [String: JSONValue] = [
            "enabled": .bool(handedOver),
            "chart": ["repository": .string(agent.chartRepository), "name": .string(agent.chartName), "version": .string(agent.chartVersion)],
            "controllerUrl": .string(agent.controllerURL), "enrollUrl": .string(agent.enrollURL), "caBundle": .string(agent.caBundle),
            "trustDomain": .string(agent.trustDomain), "namespace": .string(agent.namespace),
        ]
        if handedOver { agentSpec["enrollmentTokenSecretName"] = .string(tokenSecretName(environment: name)) }
        spec["agent"] = .object(agentSpec)
        spec["cloudAccess"] = cloudAccess(environment, access, onboarding: onboarding)
        return [
            "apiVersion": .string(apiVersion), "kind": .string(kind),
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": ["platform.qbeast.io/tenant": .string(tenant), "app.kubernetes.io/managed-by": "qbeast-controller"],
            ],
            "spec": .object(spec),
        ]
    }

    static func cloudAccess(_ environment: SplitPlaneProtocol.Environment, _ access: CloudAccess, onboarding: OnboardingSettings) -> JSONValue {
        if let aws = access.aws {
            let context = onboarding.context(for: environment, parameters: [:])
            return [
                "aws": [
                    "roleArn": .string(aws.roleArn), "externalId": .string(context.externalID),
                    "controlPlaneRoleArn": .string(onboarding.controlPlaneRoleARN),
                ]
            ]
        }
        if let azure = access.azure {
            return [
                "azure": [
                    "clientId": .string(azure.clientId), "tenantId": .string(azure.tenantId),
                    "subscriptionId": .string(azure.subscriptionId), "resourceGroup": .string(azure.resourceGroup),
                ]
            ]
        }
        if let gcp = access.gcp {
            return [
                "gcp": [
                    "projectId": .string(gcp.projectId), "workloadIdentityProvider": .string(gcp.workloadIdentityProvider),
                    "serviceAccount": .string(gcp.serviceAccount),
                ]
            ]
        }
        return [:]
    }

    /// AWS/GCP: under the onboarding template's bucket prefix `qbeast-<tenant>-<environment>` (the only
    /// names the customer's role may manage). Azure: a storage account name, 3–24 lowercase letters and digits.
    static func bucketName(_ environment: SplitPlaneProtocol.Environment) -> String {
        switch environment.cloud {
        case .aws, .gcp: return "qbeast-\(environment.tenant)-\(environment.name)-lake"
        case .azure:
            let letters = "\(environment.tenant)\(environment.name)".filter { $0.isLetter || $0.isNumber }
            if letters.count <= 22 { return "qb" + letters }
            // Too long: keep it unique with a short hash of the full names.
            let digest = Hex.encode(SHA256.hash(data: Data("\(environment.tenant)/\(environment.name)".utf8)).prefix(4))
            return "qb" + letters.prefix(14) + digest
        }
    }

    static func clusterName(tenant: String, environment: String) -> String {
        var name = String("\(tenant)-\(environment)".prefix(40))
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }
}
