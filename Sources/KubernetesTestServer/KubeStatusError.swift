import SplitPlaneProtocol

/// A failure answered as a Kubernetes `Status` object, with the API server's reasons and message
/// formats (k8s.io/apimachinery/pkg/api/errors).
struct KubeStatusError: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    var details: JSONValue?

    var status: JSONValue {
        var object: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .number(Double(code)),
        ]
        if let details { object["details"] = details }
        return .object(object)
    }

    private static func details(_ resource: KubeResource, _ name: String) -> JSONValue {
        var object: [String: JSONValue] = ["kind": .string(resource.name)]
        if !name.isEmpty { object["name"] = .string(name) }
        if !resource.group.isEmpty { object["group"] = .string(resource.group) }
        return .object(object)
    }

    static func notFound(_ resource: KubeResource, _ name: String) -> KubeStatusError {
        KubeStatusError(
            code: 404, reason: "NotFound", message: "\(resource.qualifiedResource) \"\(name)\" not found",
            details: details(resource, name))
    }

    static func namespaceNotFound(_ namespace: String) -> KubeStatusError {
        notFound(KubeResources.find(resource: "namespaces")!, namespace)
    }

    /// What the server says for a path that names no resource it serves.
    static let pathNotFound = KubeStatusError(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource",
        details: [:])

    static func alreadyExists(_ resource: KubeResource, _ name: String) -> KubeStatusError {
        KubeStatusError(
            code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedResource) \"\(name)\" already exists",
            details: details(resource, name))
    }

    static func conflict(_ resource: KubeResource, _ name: String, _ why: String) -> KubeStatusError {
        KubeStatusError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": \(why)",
            details: details(resource, name))
    }

    static func modified(_ resource: KubeResource, _ name: String) -> KubeStatusError {
        conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
    }

    static func badRequest(_ message: String) -> KubeStatusError {
        KubeStatusError(code: 400, reason: "BadRequest", message: message, details: nil)
    }

    /// 422 with one field cause, as `NewInvalid` writes it.
    static func invalid(
        qualifiedKind: String, kind: String, group: String, name: String, field: String, causeReason: String,
        detail: String
    ) -> KubeStatusError {
        var details: [String: JSONValue] = [
            "name": .string(name), "kind": .string(kind),
            "causes": [["reason": .string(causeReason), "message": .string(detail), "field": .string(field)]],
        ]
        if !group.isEmpty { details["group"] = .string(group) }
        return KubeStatusError(
            code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(field): \(detail)",
            details: .object(details))
    }

    static func invalid(_ resource: KubeResource, name: String, field: String, causeReason: String, detail: String) -> KubeStatusError {
        invalid(
            qualifiedKind: resource.qualifiedKind, kind: resource.kind, group: resource.group, name: name, field: field,
            causeReason: causeReason, detail: detail)
    }

    static let unauthorized = KubeStatusError(code: 401, reason: "Unauthorized", message: "Unauthorized", details: nil)

    static let methodNotAllowed = KubeStatusError(
        code: 405, reason: "MethodNotAllowed",
        message: "the server does not allow this method on the requested resource", details: nil)

    static func unsupportedMediaType(_ contentType: String) -> KubeStatusError {
        KubeStatusError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: "
                + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                + "application/strategic-merge-patch+json",
            details: nil)
    }

    static func tooLarge(limit: Int) -> KubeStatusError {
        KubeStatusError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)", details: nil)
    }
}
