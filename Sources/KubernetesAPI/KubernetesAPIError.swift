import Foundation
import SplitPlaneProtocol

/// A failed API call, carrying the API server's own `Status` (`reason`, `message`, `code`) so the
/// operator reads exactly what the cluster said ("exceeded quota: …", "… is forbidden: …").
public struct KubernetesAPIError: Error, CustomStringConvertible, Equatable, Sendable {
    public var code: Int
    /// `NotFound`, `Forbidden`, `Conflict`, `Invalid`, …; empty when the server sent no Status.
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    /// Decodes a `Status` body; any other body becomes the message, shortened.
    public init(code: Int, body: Data) {
        let status = try? JSONDecoder().decode(JSONValue.self, from: body)
        if status?["kind"]?.stringValue == "Status" {
            self.init(code: code, reason: status?["reason"]?.stringValue ?? "", message: status?["message"]?.stringValue ?? "")
        } else {
            self.init(code: code, reason: "", message: String(decoding: body.prefix(300), as: UTF8.self))
        }
    }

    public var description: String {
        reason.isEmpty ? "HTTP \(code): \(message)" : "\(reason) (\(code)): \(message)"
    }

    public var isNotFound: Bool { code == 404 }
    /// Worth retrying unchanged: server trouble, throttling, timeouts, optimistic-lock conflicts.
    public var isTransient: Bool { code >= 500 || code == 429 || code == 408 || code == 409 }
}
