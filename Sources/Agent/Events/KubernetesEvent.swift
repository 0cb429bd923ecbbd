import SplitPlaneProtocol

/// One thing worth telling the customer's operators, as a Kubernetes Event (`events.k8s.io/v1`).
/// Events with the same object, reason and note are one series: repeats raise its count.
public struct KubernetesEvent: Sendable, Hashable {
    public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

    /// The object the event is about (the agent's Deployment, or its Pod).
    public struct Regarding: Sendable, Hashable {
        public var apiVersion: String
        public var kind: String
        public var name: String

        public init(apiVersion: String, kind: String, name: String) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.name = name
        }
    }

    public var type: EventType
    /// UpperCamelCase, machine-readable (`CertificateRenewed`).
    public var reason: String
    /// What the agent did (`Renew`, `Send`, `Connect`).
    public var action: String
    /// Human-readable; at most 1 kB (the API's limit).
    public var note: String
    public var regarding: Regarding

    public init(type: EventType, reason: String, action: String, note: String, regarding: Regarding) {
        self.type = type
        self.reason = reason
        self.action = action
        self.note = String(note.prefix(1024))
        self.regarding = regarding
    }
}
