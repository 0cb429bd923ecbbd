/// API versions carried in every JSON body, so either side can refuse what it does not understand.
public enum APIVersion {
    /// Agent ⇄ controller wire protocol.
    public static let agentV1 = "agent.qbeast.io/v1"
    /// Operator REST API resources.
    public static let operatorV1 = "qbeast.io/v1"
}
