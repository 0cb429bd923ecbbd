import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Onboarding templates served per environment: filled for the environment and its scenario, with an
/// external ID unique to it; bad requests are refused.
@Suite struct OnboardingRoutesTests {
    @Test func templatesAreFilledPerEnvironmentAndScenario() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let api = fixture.operatorClient
            for (name, cloud, mode) in [("dev", "aws", "managed"), ("eu", "azure", "provided"), ("lab", "gcp", "managed")] {
                try await fixture.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"\#(name)","cloud":"\#(cloud)","mode":"\#(mode)"}"#)
            }
            let prod = try await api.request(.GET, "/v1/tenants/acme/environments/prod/onboarding/aws?cluster=prod-eks&bucketPrefix=acme-lake")
            #expect(prod.status == 200 && prod.headers["Content-Type"].first == "text/plain; charset=utf-8")
            #expect(prod.headers["Content-Disposition"].first == "attachment; filename=\"qbeast-acme-prod.cfn.yaml\"")
            #expect(prod.text.contains("Default: prod-eks") && prod.text.contains("Default: acme-lake") && !prod.text.contains("eks:CreateCluster"))
            let dev = try await api.request(.GET, "/v1/tenants/acme/environments/dev/onboarding/aws")
            #expect(dev.text.contains("eks:CreateCluster") && dev.text.contains("iam:PassedToService"), "managed adds the build actions")
            func externalID(_ text: String) -> String? {
                text.split(separator: "\n").first { $0.contains("sts:ExternalId:") }.map {
                    String($0.split(separator: ":").last!).trimmingCharacters(in: .whitespaces)
                }
            }
            #expect(externalID(prod.text) != nil && externalID(prod.text) != externalID(dev.text), "one external ID per environment")
            let again = try await api.request(.GET, "/v1/tenants/acme/environments/prod/onboarding/aws")
            #expect(externalID(again.text) == externalID(prod.text), "and stable")
            let azure = try await api.request(.GET, "/v1/tenants/acme/environments/eu/onboarding/azure")
            #expect(azure.text.contains("subject: 'qbeast:tenant:acme:environment:eu'") && azure.text.contains("scope: aks"))
            let gcp = try await api.request(.GET, "/v1/tenants/acme/environments/lab/onboarding/gcp?project=acme-data")
            #expect(
                gcp.text.contains("attribute_condition = \"assertion.sub == 'qbeast:tenant:acme:environment:lab'\"")
                    && gcp.text.contains("roles/container.clusterAdmin"))

            let unknownCloud = try await api.request(.GET, "/v1/tenants/acme/environments/prod/onboarding/oracle")
            #expect(unknownCloud.status == 404)
            let badParameter = try await api.request(.GET, "/v1/tenants/acme/environments/prod/onboarding/aws?cluster=a%27%3B%20drop")
            #expect(badParameter.status == 400 && badParameter.problem?.detail.contains("cluster") == true)
            let unknownParameter = try await api.request(.GET, "/v1/tenants/acme/environments/prod/onboarding/aws?role=admin")
            #expect(unknownParameter.status == 400 && unknownParameter.problem?.detail.contains("unknown parameter") == true)
            #expect(try await api.request(.GET, "/v1/tenants/acme/environments/nope/onboarding/aws").status == 404)
        }
    }
}
