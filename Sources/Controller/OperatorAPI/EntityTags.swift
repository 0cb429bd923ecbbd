import ControllerModel
import Foundation
import HTTPTypes
import Hummingbird
import SplitPlaneProtocol

/// `ETag` / `If-Match` / `If-None-Match` on workspaces and environments, so that two operators
/// cannot overwrite each other's change without noticing (RFC 9110 §13.1). A workspace's tag is its
/// spec generation (`"3"`); an environment's names its settings (namespace and registry). Reported
/// status does not change a tag: it is not something an operator writes.
enum EntityTags {
    static func workspace(_ workspace: Workspace) -> String { "\"\(workspace.generation)\"" }

    static func environment(_ environment: SplitPlaneProtocol.Environment) -> String {
        let settings = "\(environment.namespace)\n\(environment.registry ?? "")"
        return "\"s-" + Hex.sha256(settings, bytes: 8) + "\""
    }

    static func header(_ tag: String) -> HTTPFields { [.eTag: tag] }

    /// The precondition the request states for a workspace write.
    static func workspacePrecondition(_ request: Request) throws -> GenerationPrecondition {
        switch (request.headers[.ifMatch], request.headers[.ifNoneMatch]) {
        case (nil, nil): return .any
        case (_?, _?): throw APIProblem(.badRequest, "send If-Match or If-None-Match, not both")
        case (nil, let noneMatch?):
            guard noneMatch.trimmingCharacters(in: .whitespaces) == "*" else {
                throw APIProblem(.badRequest, "If-None-Match: only `*` (create, never replace) is supported on writes")
            }
            return .absent
        case (let match?, nil):
            let tags = try parse(match)
            if tags == ["*"] { return .exists }
            let generations = tags.compactMap { tag -> Int64? in
                guard tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count > 2 else { return nil }
                return Int64(tag.dropFirst().dropLast())
            }
            // A tag this API never issued matches nothing: the write is refused, not done unchecked.
            return generations.count == 1 && tags.count == 1 ? .generation(generations[0]) : .generation(-1)
        }
    }

    /// Checks `If-Match` / `If-None-Match` against an environment's current tag.
    static func checkEnvironment(_ request: Request, current: SplitPlaneProtocol.Environment) throws {
        if let noneMatch = request.headers[.ifNoneMatch] {
            _ = noneMatch
            throw APIProblem(.preconditionFailed, "environment \"\(current.name)\" exists; If-None-Match cannot hold on an update")
        }
        guard let match = request.headers[.ifMatch] else { return }
        let tags = try parse(match)
        let tag = environment(current)
        guard tags == ["*"] || tags.contains(tag) else {
            throw APIProblem(
                .preconditionFailed, "environment \"\(current.name)\" changed since it was read (its ETag is now \(tag)); GET it again and reapply your change")
        }
    }

    /// A list of entity tags; weak tags (`W/"…"`) never match for writes, so they are refused outright.
    private static func parse(_ header: String) throws -> [String] {
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !tags.isEmpty, tags.count <= 20, tags.allSatisfy({ $0 == "*" || ($0.hasPrefix("\"") && $0.hasSuffix("\"") && $0.count >= 2) }) else {
            throw APIProblem(.badRequest, "If-Match: expected `*` or quoted entity tags such as \"3\" (weak tags are not used for writes)")
        }
        return tags
    }
}
