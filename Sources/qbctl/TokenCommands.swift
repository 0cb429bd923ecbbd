import ArgumentParser
import Foundation
import NIOHTTP1
import SplitPlaneProtocol

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens with roles (admin only).", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; prints the secret once, alone on stdout.",
            discussion: """
                Roles: admin; operator (every tenant, no token management); editor and viewer (one tenant, --tenant).
                Example: qbctl token create support-acme --role viewer --tenant acme > ~/.qbeast-support-token
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "A name for the token (DNS-1123 label); the audit log shows it.") var name: String
        @Option(help: "admin, operator, editor or viewer.") var role: String
        @Option(help: "The tenant an editor or viewer token is limited to.") var tenant: String?
        func run() async throws {
            try await runCLI {
                guard let role = APIRole(rawValue: role) else { throw CLIError.usage("--role must be admin, operator, editor or viewer") }
                let token = try await connection.client().send(
                    .POST, "/v1/tokens", json: APITokenRequest(name: name, role: role, tenant: tenant),
                    as: APIToken.self)
                if connection.output.isStructured { return try Output.structured(token, connection.output) }
                print(token.token ?? "")
                FileHandle.standardError.write(Data("token \(token.id) (\(token.role.rawValue)) created; the secret is not shown again\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var connection: ConnectionOptions
        func run() async throws {
            try await runCLI {
                let list = try await connection.client().get("/v1/tokens", as: ListResponse<APIToken>.self)
                if connection.output.isStructured { return try Output.structured(list, connection.output) }
                Output.table(
                    ["ID", "NAME", "ROLE", "TENANT", "CREATED", "BY", "REVOKED"],
                    list.items.map {
                        [$0.id, $0.name, $0.role.rawValue, $0.tenant ?? "-", Output.age($0.createdAt), $0.createdBy, $0.revokedAt.map(Timestamp.format) ?? "-"]
                    })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token now.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var id: String
        func run() async throws {
            try await runCLI {
                guard !id.isEmpty, id.count <= 64, id.allSatisfy(\.isHexDigit) else { throw CLIError.usage("\"\(id)\" is not a token id") }
                _ = try await connection.client().send(.DELETE, "/v1/tokens/\(id)", body: nil)
                print("token \(id) revoked")
            }
        }
    }
}
