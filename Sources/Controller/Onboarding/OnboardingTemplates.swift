import Crypto
import Foundation
import SplitPlaneProtocol

/// The per-cloud onboarding template an environment's owner runs in their account.
/// Served as text: CloudFormation's YAML uses intrinsic-function tags (`!Sub`) that generic YAML
/// readers refuse, and the file name in `Content-Disposition` says what each one is.
public enum OnboardingTemplates {
    public static func render(cloud: Cloud, context: OnboardingContext) -> (body: String, contentType: String, fileName: String) {
        switch cloud {
        case .aws: (AWSCloudFormation.render(context), "text/plain; charset=utf-8", "\(context.shortName).cfn.yaml")
        case .azure: (AzureBicep.render(context), "text/plain; charset=utf-8", "\(context.shortName).bicep")
        case .gcp: (GCPTerraform.render(context), "text/plain; charset=utf-8", "\(context.shortName).tf")
        }
    }
}

/// Where Qbeast's control plane comes from, as the templates name it.
public struct OnboardingSettings: Sendable {
    public var controlPlaneRoleARN: String
    public var oidcIssuer: String
    /// Derives each environment's external ID; a controller secret, so IDs cannot be guessed from names.
    public var externalIDKey: Data

    public init(controlPlaneRoleARN: String, oidcIssuer: String, externalIDKey: Data) {
        self.controlPlaneRoleARN = controlPlaneRoleARN
        self.oidcIssuer = oidcIssuer
        self.externalIDKey = externalIDKey
    }

    public func context(for environment: Environment, parameters: [String: String]) -> OnboardingContext {
        OnboardingContext(
            tenant: environment.tenant, environment: environment.name, mode: environment.mode,
            controlPlaneRoleARN: controlPlaneRoleARN, oidcIssuer: oidcIssuer,
            externalID: OnboardingContext.externalID(
                tenant: environment.tenant, environment: environment.name,
                key: SymmetricKey(data: externalIDKey)),
            parameters: parameters)
    }
}
