import Foundation

/// How far Crossplane got with a managed environment, as the controller's provisioner last saw it:
/// its `Provisioned` / `Deprovisioning` conditions and every composed resource of the XR with its state.
public struct Provisioning: Codable, Equatable, Sendable {
    public var conditions: [Condition]
    public var resources: [ComposedResourceState]
    /// When the enrollment token Secret was written and the XR's hand-over switched on.
    public var handedOverAt: Date?
    /// When the hand-over token expires unused (a fresh one is issued after that until the agent enrolls).
    public var tokenExpiresAt: Date?
    /// When the controller first applied the XR (an XR missing after that was deleted out of band).
    public var appliedAt: Date?
    /// Set by a confirmed delete: the XR is being removed; the environment goes once Crossplane reports it gone.
    public var deprovisionRequestedAt: Date?

    public init(
        conditions: [Condition] = [], resources: [ComposedResourceState] = [], handedOverAt: Date? = nil,
        tokenExpiresAt: Date? = nil, appliedAt: Date? = nil, deprovisionRequestedAt: Date? = nil
    ) {
        self.appliedAt = appliedAt
        self.conditions = conditions
        self.resources = resources
        self.handedOverAt = handedOverAt
        self.tokenExpiresAt = tokenExpiresAt
        self.deprovisionRequestedAt = deprovisionRequestedAt
    }

    public static let provisionedCondition = "Provisioned"
    public static let deprovisioningCondition = "Deprovisioning"
}

/// One composed resource of the XR (from `spec.crossplane.resourceRefs`) and its Crossplane conditions.
public struct ComposedResourceState: Codable, Equatable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    /// Its name in the Composition (`crossplane.io/composition-resource-name`, e.g. `cluster`), if given.
    public var compositionName: String?
    /// `True`, `False`, `Unknown`, or nil when the resource reports no such condition (yet).
    public var synced: String?
    public var ready: String?
    /// The reason and message of the condition that is not `True` (the provider's own error), if any.
    public var reason: String?
    public var message: String?
    /// Deletion requested and the resource still exists (finalizers pending).
    public var deleting: Bool?

    public init(
        apiVersion: String, kind: String, name: String, compositionName: String? = nil, synced: String? = nil, ready: String? = nil, reason: String? = nil,
        message: String? = nil, deleting: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.compositionName = compositionName
        self.synced = synced
        self.ready = ready
        self.reason = reason
        self.message = message
        self.deleting = deleting
    }

    public var isReady: Bool { ready == "True" && synced != "False" }
    /// How messages name it: its Composition name, else `Kind/name`.
    public var label: String { compositionName ?? "\(kind)/\(name)" }
}
