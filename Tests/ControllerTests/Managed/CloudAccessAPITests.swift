import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Cloud access recorded on a managed environment through the operator API: validated per cloud (a
/// malformed value is a 400 naming the field), refused for a provided environment, stored on both
/// databases; and deleting a managed environment needs an explicit confirmation.
@Suite struct CloudAccessAPITests {
    static let aws = #"{"region":"eu-west-1","aws":{"roleArn":"arn:aws:iam::444455556666:role/qbeast/qbeast-acme-prod-access"}}"#
    static let azure =
        #"{"region":"westeurope","azure":{"clientId":"8a7f6e5d-4c3b-2a19-8f7e-6d5c4b3a2f1e","tenantId":"00000000-1111-2222-3333-444444444444","subscriptionId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","resourceGroup":"qbeast-acme-lab"}}"#
    static let gcp =
        #"{"region":"europe-west1","gcp":{"projectId":"acme-data-prod","workloadIdentityProvider":"projects/123456789012/locations/global/workloadIdentityPools/qbeast/providers/qbeast-oidc","serviceAccount":"qbeast-access@acme-data-prod.iam.gserviceaccount.com"}}"#

    @Test(arguments: TestStoreKind.allCases) func validCloudAccessIsRecordedPerCloud(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { f in
            for (name, cloud, body) in [("dev", "aws", Self.aws), ("eu", "azure", Self.azure), ("lab", "gcp", Self.gcp)] {
                try await f.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"\#(name)","cloud":"\#(cloud)","mode":"managed"}"#)
                let put = try await f.operatorClient.request(.PUT, "/v1/tenants/acme/environments/\(name)/cloud-access", json: body)
                #expect(put.status == 200, "\(put.text)")
                let read = try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/\(name)").decode(Environment.self)
                #expect(read.cloudAccess == (try StrictJSON.decode(CloudAccess.self, from: Data(body.utf8))))
            }
            let dev = try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/dev").decode(Environment.self)
            #expect(dev.cloudAccess?.aws?.roleArn == "arn:aws:iam::444455556666:role/qbeast/qbeast-acme-prod-access")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func malformedCloudAccessIsA400NamingTheField(_ kind: TestStoreKind) async throws {
        try await withController(store: kind, seed: .acmeProd) { f in
            for (name, cloud) in [("dev", "aws"), ("eu", "azure"), ("lab", "gcp")] {
                try await f.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"\#(name)","cloud":"\#(cloud)","mode":"managed"}"#)
            }
            let cases: [(String, String, String)] = [
                ("dev", #"{"region":"eu-west-1","aws":{"roleArn":"arn:aws:iam::4444:role/x"}}"#, "aws.roleArn"),
                ("dev", #"{"region":"eu-west-1","aws":{"roleArn":"arn:aws:iam::444455556666:user/x"}}"#, "aws.roleArn"),
                ("dev", #"{"region":"EU West","aws":{"roleArn":"arn:aws:iam::444455556666:role/x"}}"#, "region"),
                ("dev", #"{"region":"eu-west-1"}"#, "aws"),
                ("dev", Self.gcp, "gcp"),
                ("eu", Self.azure.replacingOccurrences(of: "00000000-1111-2222-3333-444444444444", with: "not-a-guid"), "azure.tenantId"),
                ("eu", Self.azure.replacingOccurrences(of: "8a7f6e5d-4c3b-2a19-8f7e-6d5c4b3a2f1e", with: "8a7f6e5d4c3b2a198f7e6d5c4b3a2f1e"), "azure.clientId"),
                ("lab", Self.gcp.replacingOccurrences(of: "@acme-data-prod.iam.gserviceaccount.com", with: "@gmail.com"), "gcp.serviceAccount"),
                ("lab", Self.gcp.replacingOccurrences(of: "projects/123456789012/", with: "projects/acme/"), "gcp.workloadIdentityProvider"),
                ("lab", Self.gcp.replacingOccurrences(of: "acme-data-prod\",", with: "Acme_Data\","), "gcp.projectId"),
                ("dev", #"{"region":"eu-west-1","aws":{"roleArn":"arn:aws:iam::444455556666:role/x","secretKey":"x"}}"#, "secretKey"),
            ]
            for (environment, body, field) in cases {
                let response = try await f.operatorClient.request(.PUT, "/v1/tenants/acme/environments/\(environment)/cloud-access", json: body)
                #expect(response.status == 400, "\(body)")
                #expect(response.problem?.detail.contains(field) == true, "\(field): \(response.problem?.detail ?? response.text)")
            }
            let untouched = try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/dev").decode(Environment.self)
            #expect(untouched.cloudAccess == nil)
            let provided = try await f.operatorClient.request(.PUT, "/v1/tenants/acme/environments/prod/cloud-access", json: Self.aws)
            #expect(provided.status == 409 && provided.problem?.detail.contains("provided") == true)
            #expect(try await f.operatorClient.request(.PUT, "/v1/tenants/acme/environments/nope/cloud-access", json: Self.aws).status == 404)
        }
    }

    @Test func deletingAManagedEnvironmentNeedsConfirmationAndAProvidedOneDoesNot() async throws {
        try await withController(seed: .acmeProd) { f in
            try await f.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"dev","cloud":"aws","mode":"managed"}"#)
            let unconfirmed = try await f.operatorClient.request(.DELETE, "/v1/tenants/acme/environments/dev")
            #expect(unconfirmed.status == 400 && unconfirmed.problem?.detail.contains("confirm") == true)
            #expect(try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/dev").status == 200)
            // No Crossplane configured here: nothing was provisioned, so nothing waits for a teardown.
            #expect(try await f.operatorClient.request(.DELETE, "/v1/tenants/acme/environments/dev?confirm=true").status == 204)
            #expect(try await f.operatorClient.request(.GET, "/v1/tenants/acme/environments/dev").status == 404)
            #expect(try await f.operatorClient.request(.DELETE, "/v1/tenants/acme/environments/prod").status == 204, "a provided one goes at once")
        }
    }
}
