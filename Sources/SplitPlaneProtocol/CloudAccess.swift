import Foundation

/// What the customer's onboarding template handed back for a managed environment: where to build it and
/// the identity Qbeast's control plane may use there. None of it is a secret (the clouds trust Qbeast's
/// OIDC identity for exactly this environment); it becomes the `cloudAccess` of the Crossplane XR.
/// Body of `PUT …/environments/{e}/cloud-access`: `region` and exactly the block of the environment's cloud.
public struct CloudAccess: Codable, Equatable, Hashable, Sendable {
    /// `eu-west-1`, `westeurope`, `europe-west1` …
    public var region: String
    public var aws: AWS?
    public var azure: Azure?
    public var gcp: GCP?

    public struct AWS: Codable, Equatable, Hashable, Sendable {
        /// The onboarding stack's `RoleArn` output: `arn:aws:iam::<12 digits>:role/<path/name>`.
        public var roleArn: String
        public init(roleArn: String) { self.roleArn = roleArn }
    }

    public struct Azure: Codable, Equatable, Hashable, Sendable {
        public var clientId: String
        public var tenantId: String
        public var subscriptionId: String
        /// The resource group the onboarding Bicep was deployed into (observed, never created).
        public var resourceGroup: String
        public init(clientId: String, tenantId: String, subscriptionId: String, resourceGroup: String) {
            self.clientId = clientId
            self.tenantId = tenantId
            self.subscriptionId = subscriptionId
            self.resourceGroup = resourceGroup
        }
    }

    public struct GCP: Codable, Equatable, Hashable, Sendable {
        public var projectId: String
        /// `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`.
        public var workloadIdentityProvider: String
        /// `<name>@<project>.iam.gserviceaccount.com`.
        public var serviceAccount: String
        public init(projectId: String, workloadIdentityProvider: String, serviceAccount: String) {
            self.projectId = projectId
            self.workloadIdentityProvider = workloadIdentityProvider
            self.serviceAccount = serviceAccount
        }
    }

    public init(region: String, aws: AWS? = nil, azure: Azure? = nil, gcp: GCP? = nil) {
        self.region = region
        self.aws = aws
        self.azure = azure
        self.gcp = gcp
    }

    /// Refuses anything the XR's schema or the cloud would refuse later, naming the field.
    public func validate(for cloud: Cloud) throws(ValidationError) {
        guard region.count <= 40, region.range(of: #"^[a-z][a-z0-9-]*[a-z0-9]$"#, options: .regularExpression) != nil else {
            throw ValidationError(field: "region", reason: "must be a region name of lowercase letters, digits and '-' (e.g. eu-west-1)")
        }
        let given = [(Cloud.aws, aws != nil), (.azure, azure != nil), (.gcp, gcp != nil)].filter(\.1).map(\.0)
        for other in given where other != cloud {
            throw ValidationError(field: other.rawValue, reason: "the environment runs on \(cloud.rawValue); give only \"\(cloud.rawValue)\"")
        }
        switch cloud {
        case .aws:
            guard let aws else { throw ValidationError(field: "aws", reason: "required for an environment on aws") }
            try Self.check(
                aws.roleArn, #"^arn:aws:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$"#, "aws.roleArn",
                "must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<path/name>")
        case .azure:
            guard let azure else { throw ValidationError(field: "azure", reason: "required for an environment on azure") }
            for (value, field) in [(azure.clientId, "azure.clientId"), (azure.tenantId, "azure.tenantId"), (azure.subscriptionId, "azure.subscriptionId")] {
                try Self.check(value, Self.guid, field, "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
            }
            try Self.check(
                azure.resourceGroup, #"^[-\w._()]{0,89}[-\w_()]$"#, "azure.resourceGroup",
                "must be a resource group name: 1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'")
        case .gcp:
            guard let gcp else { throw ValidationError(field: "gcp", reason: "required for an environment on gcp") }
            try Self.check(
                gcp.projectId, #"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"#, "gcp.projectId",
                "must be a project ID: 6 to 30 lowercase letters, digits or '-', starting with a letter")
            try Self.check(
                gcp.workloadIdentityProvider, #"^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$"#,
                "gcp.workloadIdentityProvider",
                "must be a provider resource name: projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>")
            try Self.check(
                gcp.serviceAccount, #"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$"#, "gcp.serviceAccount",
                "must be a service account email: <name>@<project>.iam.gserviceaccount.com")
        }
    }

    static let guid = #"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"#

    private static func check(_ value: String, _ pattern: String, _ field: String, _ reason: String) throws(ValidationError) {
        guard value.range(of: pattern, options: .regularExpression) != nil else { throw ValidationError(field: field, reason: reason) }
    }
}
