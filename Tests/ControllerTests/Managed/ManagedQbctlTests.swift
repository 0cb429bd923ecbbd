import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// `qbctl apply -f` carries a managed environment's cloud access with the environment document.
@Suite struct ManagedQbctlTests {
    @Test func applyRecordsCloudAccessAndReportsChanges() async throws {
        try await ManagedHarness.run { h in
            func document(_ role: String) throws -> String {
                let path = h.fixture.directory.path("lab.yaml")
                try """
                kind: Environment
                tenant: acme
                name: lab
                cloud: aws
                mode: managed
                cloudAccess:
                  region: eu-west-1
                  aws: {roleArn: "\(role)"}
                """.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let role = "arn:aws:iam::444455556666:role/qbeast-acme-lab-access"
            let created = try await h.qbctl(["apply", "-f", try document(role)])
            #expect(created.code == 0 && created.output.contains("environment/acme/lab created"), "\(created.output)")
            #expect(try await h.environment("lab").cloudAccess?.aws?.roleArn == role)
            let again = try await h.qbctl(["apply", "-f", try document(role)])
            #expect(again.output.contains("environment/acme/lab unchanged"), "\(again.output)")
            let changed = try await h.qbctl(["apply", "-f", try document(role + "-2")])
            #expect(changed.output.contains("environment/acme/lab configured"), "\(changed.output)")
            #expect(try await h.environment("lab").cloudAccess?.aws?.roleArn == role + "-2")
            let bad = try await h.qbctl(["apply", "-f", try document("arn:aws:iam::1:role/x")])
            #expect(bad.code == 1 && bad.output.contains("aws.roleArn"), "\(bad.output)")
            let flagged = try await h.qbctl(["env", "set-cloud-access", "acme", "dev", "--region", "eu-west-1", "--azure-client-id", "x"])
            #expect(flagged.code == 2 && flagged.output.contains("--azure-tenant-id"), "\(flagged.output)")
        }
    }
}
