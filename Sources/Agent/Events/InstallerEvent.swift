/// A moment of installing that the customer's operators should see as a Kubernetes Event (a component
/// applied, a workspace pruned, support access granted or enforced). The agent turns it into a
/// `KubernetesEvent` through its one `EventRecorder`.
public struct InstallerEvent: Sendable {
    public var type: KubernetesEvent.EventType
    public var reason: String
    public var action: String
    public var note: String
    /// The object it is about; nil: the agent itself.
    public var regarding: KubernetesEvent.Regarding?

    public init(_ type: KubernetesEvent.EventType = .normal, reason: String, action: String, note: String, regarding: KubernetesEvent.Regarding? = nil) {
        self.type = type
        self.reason = reason
        self.action = action
        self.note = note
        self.regarding = regarding
    }

    /// As a Kubernetes Event, about `agent` unless it names its own object.
    public func kubernetesEvent(agent: KubernetesEvent.Regarding) -> KubernetesEvent {
        KubernetesEvent(type: type, reason: reason, action: action, note: note, regarding: regarding ?? agent)
    }
}
