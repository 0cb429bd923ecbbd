import Foundation
import SplitPlaneProtocol
import Testing

@testable import Controller

/// The XR the controller applies follows crossplane/README.md's contract for every cloud.
@Suite struct EnvironmentXRTests {
    let agent = ManagedAgentSettings(
        chartRepository: "oci://ghcr.io/qbeast/charts", chartVersion: "0.1.0", controllerURL: "https://a:8444", enrollURL: "https://a:8445",
        caBundle: "PEM", trustDomain: "qbeast.io")
    let onboarding = OnboardingSettings(
        controlPlaneRoleARN: "arn:aws:iam::111122223333:role/qbeast-control-plane", oidcIssuer: "https://oidc", externalIDKey: Data("k".utf8))

    func environment(_ cloud: Cloud, tenant: String = "acme", name: String = "prod") -> SplitPlaneProtocol.Environment {
        SplitPlaneProtocol.Environment(tenant: tenant, name: name, cloud: cloud, mode: .managed, desiredRevision: 1, createdAt: Date())
    }

    @Test func azureAndGCPCarryTheirOwnCloudAccessAndNames() {
        let azureAccess = CloudAccess(
            region: "westeurope",
            azure: .init(clientId: "c", tenantId: "t", subscriptionId: "s", resourceGroup: "rg"))
        let azure = EnvironmentXR.build(
            environment(.azure), access: azureAccess, namespace: "qbeast-acme", agent: agent, onboarding: onboarding, handedOver: false)
        #expect(azure["spec"]?["crossplane"]?["compositionSelector"]?["matchLabels"]?["platform.qbeast.io/cloud"] == "azure")
        #expect(azure["spec"]?["cloudAccess"]?["azure"]?["resourceGroup"] == "rg" && azure["spec"]?["cloudAccess"]?["aws"] == nil)
        #expect(azure["spec"]?["storage"]?["bucketName"] == "qbacmeprod", "a storage account name: lowercase letters and digits")
        let gcpAccess = CloudAccess(region: "europe-west1", gcp: .init(projectId: "p", workloadIdentityProvider: "w", serviceAccount: "sa"))
        let gcp = EnvironmentXR.build(environment(.gcp), access: gcpAccess, namespace: "qbeast-acme", agent: agent, onboarding: onboarding, handedOver: true)
        #expect(gcp["spec"]?["cloudAccess"]?["gcp"]?["serviceAccount"] == "sa")
        #expect(gcp["spec"]?["agent"]?["enabled"] == .bool(true) && gcp["spec"]?["agent"]?["enrollmentTokenSecretName"] == "prod-enrollment-token")
    }

    @Test func longNamesStayWithinTheContractsLimits() {
        let tenant = "a-very-long-tenant-name-of-a-customer", name = "production-eu-west"
        let access = CloudAccess(region: "westeurope", azure: .init(clientId: "c", tenantId: "t", subscriptionId: "s", resourceGroup: "rg"))
        let xr = EnvironmentXR.build(
            environment(.azure, tenant: tenant, name: name), access: access, namespace: "qbeast-x", agent: agent, onboarding: onboarding, handedOver: false)
        let cluster = xr["spec"]?["cluster"]?["name"]?.stringValue ?? ""
        #expect(cluster.count <= 40 && !cluster.hasSuffix("-") && cluster.hasPrefix("a-very-long"))
        let account = xr["spec"]?["storage"]?["bucketName"]?.stringValue ?? ""
        #expect((3...24).contains(account.count) && account.allSatisfy { $0.isLowercase || $0.isNumber })
    }
}
