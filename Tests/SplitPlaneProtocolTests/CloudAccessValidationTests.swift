import SplitPlaneProtocol
import Testing

@Suite struct CloudAccessValidationTests {
    func field(_ access: CloudAccess, _ cloud: Cloud) -> String? {
        do {
            try access.validate(for: cloud)
            return nil
        } catch {
            return error.field
        }
    }

    @Test func awsRoleARNs() {
        for arn in ["arn:aws:iam::444455556666:role/qbeast-acme-prod-access", "arn:aws:iam::444455556666:role/path/to/Role_1+=,.@-"] {
            #expect(field(CloudAccess(region: "eu-west-1", aws: .init(roleArn: arn)), .aws) == nil, "\(arn)")
        }
        for arn in [
            "arn:aws:iam::44445555666:role/x", "arn:aws:iam::444455556666:user/x", "arn:aws-cn:iam::444455556666:role/x",
            "arn:aws:iam::444455556666:role/", "arn:aws:iam::444455556666:role/a b",
        ] {
            #expect(field(CloudAccess(region: "eu-west-1", aws: .init(roleArn: arn)), .aws) == "aws.roleArn", "\(arn)")
        }
    }

    @Test func onlyTheEnvironmentsCloud() {
        let aws = CloudAccess(region: "eu-west-1", aws: .init(roleArn: "arn:aws:iam::444455556666:role/x"))
        #expect(field(aws, .azure) == "aws")
        #expect(field(CloudAccess(region: "eu-west-1"), .gcp) == "gcp")
    }
}
