import ArgumentParser
import Foundation
import NIOHTTP1
import SplitPlaneProtocol

extension EnvironmentCommand {
    struct EnrollToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-token",
            abstract: "Make a one-time enrollment token for the environment's agent (shown once; single use).",
            discussion: """
                Prints only the token on stdout, so it can go straight into a Secret:
                  qbctl env enroll-token acme prod --ttl 30m | kubectl -n qbeast create secret generic qbeast-enrollment --from-file=token=/dev/stdin
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        @Option(help: "How long it stays valid (default 15m, at most 24h).") var ttl: String?
        func run() async throws {
            try await runCLI {
                let token = try await connection.client().send(
                    .POST, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/enrollment-tokens",
                    json: EnrollmentTokenRequest(ttl: ttl), as: SplitPlaneProtocol.EnrollmentToken.self)
                if connection.output.isStructured { return try Output.structured(token, connection.output) }
                print(token.token)
                FileHandle.standardError.write(Data("valid until \(Timestamp.format(token.expiresAt)), once; it is not shown again\n".utf8))
            }
        }
    }

    struct Certificates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Certificates issued to the environment's agents, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        func run() async throws {
            try await runCLI {
                let list = try await connection.client().get(
                    "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/certificates",
                    as: ListResponse<AgentCertificate>.self)
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                Output.table(
                    ["SERIAL", "METHOD", "NOT AFTER", "REVOKED"],
                    list.items.map {
                        [$0.serial, $0.method, Timestamp.format($0.notAfter), $0.revokedAt.map(Timestamp.format) ?? "-"]
                    })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every certificate of the environment now; its agent is cut off within a second and must enroll again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        func run() async throws {
            try await runCLI {
                _ = try await connection.client().send(.POST, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/revoke", body: nil)
                print("environment \(tenant)/\(environment) revoked")
            }
        }
    }

    struct TrustServiceAccount: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust-service-account",
            abstract: "Let the environment's agent enroll with its projected Kubernetes service-account token (no secret).",
            discussion: """
                Example (EKS): qbctl env trust-service-account acme prod \\
                  --issuer https://oidc.eks.eu-west-1.amazonaws.com/id/ABC --jwks-file jwks.json --namespace qbeast --service-account qbeast-agent
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        @Option(help: "The cluster's OIDC issuer URL.") var issuer: String
        @Option(help: "The cluster's JWKS document (kubectl get --raw /openid/v1/jwks).") var jwksFile: String
        @Option var namespace: String
        @Option var serviceAccount: String
        func run() async throws {
            try await runCLI {
                guard let data = FileManager.default.contents(atPath: jwksFile), let jwks = try? StrictJSON.decoder().decode(JSONValue.self, from: data) else {
                    throw CLIError.usage("cannot read a JSON document from \(jwksFile)")
                }
                let trust = ServiceAccountTrust(issuer: issuer, jwks: jwks, namespace: namespace, serviceAccount: serviceAccount)
                _ = try await connection.client().send(
                    .PUT, "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/service-account-trust",
                    json: trust, as: ServiceAccountTrust.self)
                print("agents of \(tenant)/\(environment) may enroll as \(trust.subject) from \(issuer)")
            }
        }
    }
}

extension EnvironmentCommand {
    struct Onboarding: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the template that grants Qbeast's control plane access to the environment's cloud account.",
            discussion: """
                aws: CloudFormation (an IAM role with an external ID), azure: Bicep (a managed identity with a federated
                credential), gcp: Terraform (a workload identity pool and provider). Examples:
                  qbctl env onboarding acme prod aws --param cluster=prod-eks --param bucketPrefix=acme-lake > qbeast.cfn.yaml
                  aws cloudformation deploy --template-file qbeast.cfn.yaml --stack-name qbeast-access --capabilities CAPABILITY_NAMED_IAM
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument var tenant: String
        @Argument var environment: String
        @Argument(help: "aws, azure or gcp") var cloud: String
        @Option(
            name: .customLong("param"), help: "Template parameter name=value (cluster, bucketPrefix, region, resourceGroup, storageAccount, project, location)."
        )
        var parameters: [String] = []
        func run() async throws {
            try await runCLI {
                guard Cloud(rawValue: cloud) != nil else { throw CLIError.usage("cloud must be aws, azure or gcp") }
                var query: [String] = []
                for parameter in parameters {
                    let parts = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let value = parts[1].addingPercentEncoding(withAllowedCharacters: .alphanumerics) else {
                        throw CLIError.usage("--param expects name=value, got \(parameter)")
                    }
                    query.append("\(parts[0])=\(value)")
                }
                let path =
                    "/v1/tenants/\(try checked(tenant))/environments/\(try checked(environment))/onboarding/\(cloud)"
                    + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                FileHandle.standardOutput.write(try await connection.client().send(.GET, path, body: nil))
            }
        }
    }
}

struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cert", abstract: "Agent certificates.", subcommands: [Revoke.self])

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one certificate by serial (see `qbctl env certificates`).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var serial: String
        func run() async throws {
            try await runCLI {
                guard !serial.isEmpty, serial.count <= 64, serial.allSatisfy(\.isHexDigit) else { throw CLIError.usage("\"\(serial)\" is not a hex serial") }
                let certificate = try await connection.client().send(.POST, "/v1/certificates/\(serial.lowercased())/revoke", body: nil)
                if connection.output.isStructured { return try Output.raw(certificate, connection.output) }
                print("certificate \(serial) revoked")
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log: every change, enrollment, renewal and revocation.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "At most this many, newest first (1-1000).") var limit: Int = 50
    @Option(help: "Only records older than this id (paging).") var before: Int64?
    func run() async throws {
        try await runCLI {
            let path = "/v1/audit?limit=\(limit)" + (before.map { "&before=\($0)" } ?? "")
            let list = try await connection.client().get(path, as: ListResponse<AuditRecord>.self)
            if connection.output.isStructured { return try Output.structured(list, connection.output) }
            Output.table(
                ["ID", "AT", "ACTOR", "ACTION", "TARGET", "RESULT", "FROM", "DETAIL"],
                list.items.map {
                    [String($0.id), Timestamp.format($0.at), $0.actor, $0.action, $0.target, $0.result, $0.address ?? "-", $0.detail ?? ""]
                })
        }
    }
}
