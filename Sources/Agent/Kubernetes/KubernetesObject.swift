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
              let name = object["metadata"]?["name"]?.stringValue else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, name: name)
    }

    /// `Deployment/web`, as kubectl names objects.
    public var description: String { "\(kind)/\(name)" }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var intValue: Int? { numberValue.map { Int($0) } }

    /// Follows a dotted path of object keys (`status.readyReplicas`).
    func at(_ path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// Sets `value` at a path of object keys, creating objects on the way.
    mutating func set(_ path: [String], to value: JSONValue) {
        guard let key = path.first else { self = value; return }
        var object = objectValue ?? [:]
        var child = object[key] ?? .object([:])
        child.set(Array(path.dropFirst()), to: value)
        object[key] = child
        self = .object(object)
    }
}

/// The labels that mark what the agent owns. Pruning and uninstalling touch only objects carrying
/// all three with this workspace's values, so nothing the agent did not create is ever deleted.
public enum OwnershipLabels {
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "qbeast-agent"
    public static let workspace = "qbeast.io/workspace"
    public static let component = "qbeast.io/component"
    public static let fieldManager = "qbeast-agent"

    static func stamp(_ object: JSONValue, workspace: String, component: String, namespace: String) -> JSONValue {
        var stamped = object
        stamped.set(["metadata", "labels", managedBy], to: .string(managedByValue))
        stamped.set(["metadata", "labels", Self.workspace], to: .string(workspace))
        stamped.set(["metadata", "labels", Self.component], to: .string(component))
        stamped.set(["metadata", "namespace"], to: .string(namespace))
        return stamped
    }

    /// True when the live object carries our labels for this workspace (and component, when given).
    static func owned(_ live: JSONValue, workspace: String, component: String? = nil) -> Bool {
        let labels = live["metadata"]?["labels"]
        guard labels?[managedBy]?.stringValue == managedByValue, labels?[Self.workspace]?.stringValue == workspace else { return false }
        return component == nil || labels?[Self.component]?.stringValue == component
    }
}
