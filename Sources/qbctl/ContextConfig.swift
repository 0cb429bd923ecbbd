import Foundation
import Yams

/// `~/.config/qbctl/config.yaml`: named controllers to talk to, like kubectl's contexts.
///
///     current-context: prod
///     contexts:
///       - name: prod
///         server: https://controller.qbeast.io:8443
///         ca: /etc/qbeast/ca.pem
///         tokenFile: /home/me/.config/qbctl/prod.token
///
/// Flags win over `QBEAST_*` environment variables, which win over the context.
struct ContextConfig: Codable, Equatable {
    struct Context: Codable, Equatable {
        var name: String
        var server: String?
        var ca: String?
        var token: String?
        var tokenFile: String?
    }

    var currentContext: String?
    var contexts: [Context] = []

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case contexts
    }

    /// `QBCTL_CONFIG`, else `$XDG_CONFIG_HOME/qbctl/config.yaml`, else `~/.config/qbctl/config.yaml`.
    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["QBCTL_CONFIG"], !explicit.isEmpty { return explicit }
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config").path
        return base + "/qbctl/config.yaml"
    }

    static func load(from path: String = ContextConfig.path) throws -> ContextConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return ContextConfig() }
        do {
            return try YAMLDecoder().decode(ContextConfig.self, from: String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError.usage("\(path): not a qbctl config (\(error))")
        }
    }

    /// Written owner-only: a context may hold a token.
    func save(to path: String = ContextConfig.path) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = try YAMLEncoder().encode(self)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError(message: "cannot write \(path)", exitCode: 1)
        }
    }

    /// The context named (flag or `QBEAST_CONTEXT`), else the current one; nil when none is configured.
    func selected(_ name: String?) throws -> Context? {
        guard let wanted = name ?? currentContext else { return nil }
        guard let context = contexts.first(where: { $0.name == wanted }) else {
            throw CLIError.usage("no context \"\(wanted)\" in \(Self.path) (see `qbctl config get-contexts`)")
        }
        return context
    }
}
