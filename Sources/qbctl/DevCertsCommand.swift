import ArgumentParser
import Foundation
import SplitPlaneTLS

struct DevCertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-certs",
        abstract: "Create the development PKI (dev CA, controller certificate, agent certificates). Not for production.",
        discussion: "Example: qbctl dev-certs --out certs-dev/out --agent acme/prod --agent globex/staging"
    )

    @Option(help: "Output directory.") var out: String = "certs-dev/out"
    @Option(help: "SPIFFE trust domain of the agent identities.") var trustDomain: String = "qbeast.dev"
    @Option(help: "An agent identity as tenant/environment; repeatable.") var agent: [String] = []

    func run() async throws {
        try await runCLI {
            let agents = try agent.map { spec -> DevPKI.AgentSpec in
                let parts = spec.split(separator: "/").map(String.init)
                guard parts.count == 2 else { throw CLIError.usage("--agent takes tenant/environment, got \"\(spec)\"") }
                return DevPKI.AgentSpec(tenant: try checked(parts[0]), environment: try checked(parts[1]))
            }
            do {
                let written = try DevPKI(directory: URL(fileURLWithPath: out), trustDomain: trustDomain).generate(agents: agents)
                print("wrote \(written.count) file(s) to \(out): \(written.joined(separator: " "))")
            } catch {
                throw CLIError(message: "cannot create certificates in \(out): \(error)", exitCode: 1)
            }
        }
    }
}
