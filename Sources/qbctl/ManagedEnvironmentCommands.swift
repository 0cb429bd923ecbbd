import ArgumentParser
import Foundation
import SplitPlaneProtocol

extension EnvironmentCommand {
    /// `qbctl env set-cloud-access`: the onboarding template's outputs for a managed environment.
    struct SetCloudAccess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-cloud-access",
            abstract: "Record a managed environment's cloud access (the onboarding template's outputs); provisioning starts.",
            discussion: """
                Give --region and the options of the environment's cloud:
                  aws    --aws-role-arn arn:aws:iam::444455556666:role/qbeast-acme-prod-access
                  azure  --azure-client-id <GUID> --azure-tenant-id <GUID> --azure-subscription-id <GUID> --azure-resource-group <name>
                  gcp    --gcp-project-id <id> --gcp-workload-identity-provider projects/<n>/locations/global/workloadIdentityPools/<p>/providers/<p> \\
                         --gcp-service-account <name>@<project>.iam.gserviceaccount.com
                Example: qbctl env set-cloud-access acme prod --region eu-west-1 --aws-role-arn arn:aws:iam::444455556666:role/qbeast-acme-prod-access
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var name: String
        @Option(help: "Region to build in (eu-west-1, westeurope, europe-west1 …).") var region: String
        @Option(help: "AWS: the onboarding stack's RoleArn output.") var awsRoleArn: String?
        @Option(help: "Azure: the onboarding Bicep's client ID.") var azureClientId: String?
        @Option(help: "Azure: the Entra tenant ID.") var azureTenantId: String?
        @Option(help: "Azure: the subscription ID.") var azureSubscriptionId: String?
        @Option(help: "Azure: the resource group the onboarding Bicep was deployed into.") var azureResourceGroup: String?
        @Option(help: "GCP: the project ID.") var gcpProjectId: String?
        @Option(help: "GCP: the onboarding Terraform's workload identity provider.") var gcpWorkloadIdentityProvider: String?
        @Option(help: "GCP: the onboarding Terraform's service account email.") var gcpServiceAccount: String?

        func access() throws -> CloudAccess {
            var access = CloudAccess(region: region)
            if let awsRoleArn { access.aws = .init(roleArn: awsRoleArn) }
            let azure = [azureClientId, azureTenantId, azureSubscriptionId, azureResourceGroup]
            if azure.contains(where: { $0 != nil }) {
                guard let clientId = azureClientId, let tenantId = azureTenantId, let subscription = azureSubscriptionId,
                    let group = azureResourceGroup
                else {
                    throw CLIError.usage("azure needs --azure-client-id, --azure-tenant-id, --azure-subscription-id and --azure-resource-group")
                }
                access.azure = .init(clientId: clientId, tenantId: tenantId, subscriptionId: subscription, resourceGroup: group)
            }
            let gcp = [gcpProjectId, gcpWorkloadIdentityProvider, gcpServiceAccount]
            if gcp.contains(where: { $0 != nil }) {
                guard let project = gcpProjectId, let provider = gcpWorkloadIdentityProvider, let account = gcpServiceAccount else {
                    throw CLIError.usage("gcp needs --gcp-project-id, --gcp-workload-identity-provider and --gcp-service-account")
                }
                access.gcp = .init(projectId: project, workloadIdentityProvider: provider, serviceAccount: account)
            }
            guard access.aws != nil || access.azure != nil || access.gcp != nil else {
                throw CLIError.usage("give the cloud's options: --aws-role-arn, the four --azure-… or the three --gcp-… options")
            }
            return access
        }

        func run() async throws {
            try await runCLI {
                let environment = try await connection.client().send(
                    .PUT, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(name))/cloud-access",
                    json: try access(), as: Environment.self)
                try show(environments: [environment], connection.output)
            }
        }
    }

    /// The provisioning section of `qbctl describe env`: the conditions, then every composed resource.
    static func describeProvisioning(_ environment: Environment) {
        guard environment.mode == .managed else { return }
        print("\nPROVISIONING")
        if let access = environment.cloudAccess {
            print("cloud access: \(environment.cloud.rawValue) in \(access.region)")
        } else {
            print("cloud access: not recorded (qbctl env set-cloud-access)")
        }
        let conditions = (environment.conditions ?? []).filter {
            [Provisioning.provisionedCondition, Provisioning.deprovisioningCondition].contains($0.type)
        }
        if !conditions.isEmpty {
            Output.table(["CONDITION", "STATUS", "REASON", "MESSAGE"], conditions.map { [$0.type, $0.status.rawValue, $0.reason, $0.message] })
        }
        let resources = environment.provisioning?.resources ?? []
        guard !resources.isEmpty else { return }
        print("\nCOMPOSED RESOURCES")
        Output.table(
            ["RESOURCE", "KIND", "NAME", "SYNCED", "READY", "STATE"],
            resources.map { resource in
                let state =
                    resource.deleting == true
                    ? "deleting"
                    : resource.isReady ? "ready" : [resource.reason, resource.message].compactMap { $0 }.joined(separator: ": ")
                return [
                    resource.compositionName ?? "-", resource.kind, resource.name, resource.synced ?? "-", resource.ready ?? "-",
                    state.isEmpty ? "waiting" : state,
                ]
            })
    }
}
