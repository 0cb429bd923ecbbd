import SplitPlaneProtocol

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
