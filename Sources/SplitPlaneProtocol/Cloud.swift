/// Where an environment's cluster runs.
public enum Cloud: String, Codable, CaseIterable, Sendable { case aws, azure, gcp }

/// `provided`: the customer gives a namespace in an existing cluster. `managed`: Qbeast provisions
/// network, storage and cluster through the control plane's infrastructure tooling.
public enum EnvironmentMode: String, Codable, CaseIterable, Sendable { case provided, managed }
