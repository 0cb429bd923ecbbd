import Foundation
import SplitPlaneProtocol

/// Identity of an object the agent applies: enough to find it again for health checks and pruning.
public struct ObjectKey: Codable, Hashable, Sendable, CustomStringConvertible {
    public var apiVersion: String
    public var kind: String
    public var name: String

    public init(apiVersion: String, kind: String, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
    }

    public init?(_ object: JSONValue) {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let name = object["metadata"]?["name"]?.stringValue
        else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, name: name)
    }

    /// `Deployment/web`, as kubectl names objects.
    public var description: String { "\(kind)/\(name)" }
}
