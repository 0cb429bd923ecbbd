import Foundation

/// Bicep for Azure: a user-assigned managed identity that trusts exactly Qbeast's control plane for
/// this environment (federated credential: issuer, exact subject, audience `api://AzureADTokenExchange`),
/// with role assignments scoped to the AKS cluster and the storage account — or, for `managed`, to the
/// resource group Qbeast builds the environment in. No Owner, Contributor or User Access Administrator.
enum AzureBicep {
    // Built-in role definition IDs (stable across tenants).
    static let aksClusterUser = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
    static let storageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    static let aksContributor = "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8"
    static let networkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
    static let storageAccountContributor = "17d1049b-9a84-46fb-8f53-869881c3d3ab"

    static func render(_ c: OnboardingContext) -> String {
        let storageAccount = c.parameters["storageAccount"] ?? String("qb\(c.tenant)\(c.environment)".filter { $0.isLetter || $0.isNumber }.prefix(24))
        var text = """
            // Qbeast control-plane access for \(c.tenant)/\(c.environment) (\(c.mode.rawValue)).
            // Deploy into the environment's resource group:
            //   az deployment group create -g <resource group> -f qbeast-\(c.tenant)-\(c.environment).bicep
            // Revoke: delete the managed identity (az identity delete -g <resource group> -n \(c.shortName)).
            targetScope = 'resourceGroup'

            param location string = resourceGroup().location
            param aksClusterName string = '\(c.cluster)'
            param storageAccountName string = '\(storageAccount)'

            resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
              name: '\(c.shortName)'
              location: location
            }

            // Only Qbeast's control plane, presenting this environment's subject, can use the identity.
            resource federation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
              parent: identity
              name: 'qbeast-control-plane'
              properties: {
                issuer: '\(c.oidcIssuer)'
                subject: '\(c.subject)'
                audiences: [
                  'api://AzureADTokenExchange'
                ]
              }
            }


            """
        if c.mode == .provided {
            text += """
                resource aks 'Microsoft.ContainerService/managedClusters@2024-02-01' existing = {
                  name: aksClusterName
                }

                resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {
                  name: storageAccountName
                }

                resource clusterUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
                  name: guid(aks.id, identity.id, '\(aksClusterUser)')
                  scope: aks
                  properties: {
                    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '\(aksClusterUser)')
                    principalId: identity.properties.principalId
                    principalType: 'ServicePrincipal'
                  }
                }

                resource blobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
                  name: guid(storage.id, identity.id, '\(storageBlobDataContributor)')
                  scope: storage
                  properties: {
                    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '\(storageBlobDataContributor)')
                    principalId: identity.properties.principalId
                    principalType: 'ServicePrincipal'
                  }
                }


                """
        } else {
            for (name, role) in [
                ("aksContributor", aksContributor), ("networkContributor", networkContributor),
                ("storageAccountContributor", storageAccountContributor),
            ] {
                text += """
                    resource \(name) 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
                      name: guid(resourceGroup().id, identity.id, '\(role)')
                      properties: {
                        roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '\(role)')
                        principalId: identity.properties.principalId
                        principalType: 'ServicePrincipal'
                      }
                    }


                    """
            }
        }
        text += """
            // Give these back to Qbeast.
            output clientId string = identity.properties.clientId
            output tenantId string = identity.properties.tenantId

            """
        return text
    }
}
