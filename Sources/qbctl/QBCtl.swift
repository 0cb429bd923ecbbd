import ArgumentParser
import Foundation
import SplitPlaneProtocol

@main
struct QBCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbctl",
        abstract: "Operate the Qbeast control plane: tenants, environments, workspaces, alerts.",
        discussion: """
            Connection settings come from flags, else QBEAST_SERVER, QBEAST_TOKEN (or QBEAST_TOKEN_FILE) and QBEAST_CA_FILE, \
            else the context (--context, QBEAST_CONTEXT or the current one in ~/.config/qbctl/config.yaml; see `qbctl config`).

            Shell completion: qbctl --generate-completion-script bash|zsh|fish.

            Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 not found, 4 not authorised, 5 controller unreachable.

            Examples:
              qbctl config set-context prod --server https://controller.qbeast.io:8443 --ca ca.pem --token-file ~/.qbeast-token
              qbctl apply -f fleet.yaml                         # Tenants, Environments, Workspaces; several per file
              qbctl get workspaces -t acme -e prod-eu
              qbctl describe workspace analytics -t acme -e prod-eu
              qbctl tenant create acme
              qbctl env create acme prod-eu --cloud aws --mode provided
              qbctl workspace apply -f workspace.yaml
              qbctl workspace get acme prod-eu analytics -o json
              qbctl alerts list --tenant acme --state firing
              qbctl env enroll-token acme prod-eu --ttl 30m
              qbctl env revoke acme prod-eu
              qbctl audit --limit 20
              qbctl alerts groups
              qbctl alerts ack 3f9a0c1e5b7d2a64 --comment "rolling back"
              qbctl silence create -m tenant=acme -m severity=warning --duration 2h --comment "upgrade"
            """,
        version: BuildVersion.current,
        subcommands: [
            TenantCommand.self, EnvironmentCommand.self, WorkspaceCommand.self, AlertsCommand.self, SilenceCommand.self,
            RoutingCommand.self, CertificateCommand.self, AuditCommand.self, TokenCommand.self, ConfigCommand.self, DevCertsCommand.self,
            ApplyCommand.self, GetCommand.self, DescribeCommand.self, DeleteCommand.self,
        ]
    )

    /// ArgumentParser's own usage errors exit 64 with the usage text; scripts get exit 2 and one line,
    /// like every other usage error here. Help and version output are unchanged.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            FileHandle.standardError.write(Data("error: \(message.replacingOccurrences(of: "Error: ", with: ""))\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// Options every API command shares.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Context of the qbctl config file to use (QBEAST_CONTEXT). Default: its current context.") var context: String?
    @Option(help: "Controller operator API URL (QBEAST_SERVER). Default https://localhost:8443.") var server: String?
    @Option(help: "Bearer token (QBEAST_TOKEN). Prefer --token-file: flags show in `ps`.") var token: String?
    @Option(help: "File holding the bearer token (QBEAST_TOKEN_FILE).") var tokenFile: String?
    @Option(help: "PEM CA bundle to verify the controller with (QBEAST_CA_FILE). Default: system roots.") var ca: String?
    @Option(name: [.short, .customLong("output")], help: "Output format: table, json or yaml.") var output: OutputFormat = .table

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        let selected = try ContextConfig.load().selected(context ?? environment["QBEAST_CONTEXT"].flatMap { $0.isEmpty ? nil : $0 })
        let server = server ?? environment["QBEAST_SERVER"] ?? selected?.server ?? "https://localhost:8443"
        // A token given at a stronger level (flag, then environment) wins over any weaker one, file or inline.
        let levels: [(token: String?, file: String?)] = [
            (token, tokenFile), (environment["QBEAST_TOKEN"], environment["QBEAST_TOKEN_FILE"]),
            (selected?.token, selected?.tokenFile),
        ]
        var resolved: String?
        for level in levels where resolved == nil {
            if let inline = level.token {
                resolved = inline
            } else if let file = level.file {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError.usage("cannot read token file \(file)") }
                resolved = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        guard let token = resolved, !token.isEmpty else {
            throw CLIError.usage("no token: set --token-file, QBEAST_TOKEN or QBEAST_TOKEN_FILE, or a context (`qbctl config set-context`)")
        }
        return try APIClient(server: server, token: token, caFile: ca ?? environment["QBEAST_CA_FILE"] ?? selected?.ca)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml

    /// The whole resource as the API returns it, for scripts: JSON or YAML.
    var isStructured: Bool { self != .table }
}

/// Runs a command body, turning failures into one line on stderr and a script-friendly exit code.
/// A `-f` argument's text: the file, or standard input for `-`.
func readInput(_ file: String) throws -> String {
    if file == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
    guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError.usage("cannot read \(file)") }
    return contents
}

func runCLI(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

struct CLIError: Error {
    var message: String
    var exitCode: Int32
    /// The HTTP status the controller answered, when it answered.
    var status: Int? = nil

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
}
