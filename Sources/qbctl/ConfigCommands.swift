import ArgumentParser
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Contexts: which controller to talk to, with which CA and token.",
        discussion: """
            The file is QBCTL_CONFIG, else $XDG_CONFIG_HOME/qbctl/config.yaml, else ~/.config/qbctl/config.yaml (written 0600).

            Examples:
              qbctl config set-context prod --server https://controller.qbeast.io:8443 --ca ca.pem --token-file ~/.qbeast-token
              qbctl config use-context prod
              qbctl tenant list --context staging       # any command, one context
            """,
        subcommands: [GetContexts.self, CurrentContext.self, UseContext.self, SetContext.self, DeleteContext.self]
    )

    struct GetContexts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get-contexts", abstract: "List contexts; * marks the current one.")
        func run() async throws {
            try await runCLI {
                let config = try ContextConfig.load()
                Output.table(
                    ["CURRENT", "NAME", "SERVER", "CA", "TOKEN"],
                    config.contexts.map { context in
                        [
                            context.name == config.currentContext ? "*" : "", context.name, context.server ?? "-", context.ca ?? "-",
                            context.tokenFile.map { "file \($0)" } ?? (context.token == nil ? "-" : "inline"),
                        ]
                    })
            }
        }
    }

    struct CurrentContext: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "current-context", abstract: "Print the current context's name.")
        func run() async throws {
            try await runCLI {
                guard let name = try ContextConfig.load().currentContext else { throw CLIError(message: "no current context", exitCode: 3) }
                print(name)
            }
        }
    }

    struct UseContext: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "use-context", abstract: "Make a context the current one.")
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                var config = try ContextConfig.load()
                guard config.contexts.contains(where: { $0.name == name }) else {
                    throw CLIError(message: "no context \"\(name)\" in \(ContextConfig.path)", exitCode: 3)
                }
                config.currentContext = name
                try config.save()
                print("switched to context \"\(name)\"")
            }
        }
    }

    struct SetContext: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-context", abstract: "Create or update a context (only the fields given change).")
        @Argument var name: String
        @Option(help: "Controller operator API URL.") var server: String?
        @Option(help: "PEM CA bundle to verify the controller with.") var ca: String?
        @Option(help: "File holding the bearer token (preferred over an inline token).") var tokenFile: String?
        @Flag(help: "Make it the current context.") var use = false
        func run() async throws {
            try await runCLI {
                guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { throw CLIError.usage("a context name has no spaces") }
                if let server, !(server.hasPrefix("https://") || server.hasPrefix("http://")) {
                    throw CLIError.usage("--server must be an http(s):// URL, got \"\(server)\"")
                }
                var config = try ContextConfig.load()
                var context = config.contexts.first { $0.name == name } ?? ContextConfig.Context(name: name)
                if let server { context.server = server }
                if let ca { context.ca = absolute(ca) }
                if let tokenFile { context.tokenFile = absolute(tokenFile) }
                config.contexts.removeAll { $0.name == name }
                config.contexts.append(context)
                if use || config.currentContext == nil { config.currentContext = name }
                try config.save()
                print("context \"\(name)\" set\(config.currentContext == name ? " (current)" : "")")
            }
        }

        private func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
    }

    struct DeleteContext: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-context", abstract: "Remove a context.")
        @Argument var name: String
        func run() async throws {
            try await runCLI {
                var config = try ContextConfig.load()
                guard config.contexts.contains(where: { $0.name == name }) else {
                    throw CLIError(message: "no context \"\(name)\" in \(ContextConfig.path)", exitCode: 3)
                }
                config.contexts.removeAll { $0.name == name }
                if config.currentContext == name { config.currentContext = nil }
                try config.save()
                print("context \"\(name)\" deleted")
            }
        }
    }
}
