import Foundation
import KubernetesAPI
import SplitPlaneProtocol

/// Reads what Crossplane reports: the XR, and each composed resource it lists in
/// `spec.crossplane.resourceRefs` (Crossplane v2's field for namespaced XRs) with its `Synced`/`Ready`
/// conditions. Kinds are resolved through discovery, so any provider's managed resources can be read.
struct CrossplaneReader {
    let client: KubernetesClient
    let discovery: APIDiscovery

    /// The XR, or nil when it does not exist.
    func xr(namespace: String, name: String) async throws -> JSONValue? {
        do {
            return try await client.get(EnvironmentXR.path(namespace: namespace, name: name))
        } catch let error as KubernetesAPIError where error.isNotFound {
            return nil
        }
    }

    /// Every composed resource the XR references that still exists (one no longer found is left out:
    /// during teardown that means it is gone).
    func composed(of xr: JSONValue, namespace: String) async throws -> [ComposedResourceState] {
        var states: [ComposedResourceState] = []
        for ref in xr["spec"]?["crossplane"]?["resourceRefs"]?.arrayValue ?? [] {
            guard let apiVersion = ref["apiVersion"]?.stringValue, let kind = ref["kind"]?.stringValue, let name = ref["name"]?.stringValue
            else { continue }
            guard let resource = try await discovery.resource(apiVersion: apiVersion, kind: kind) else {
                states.append(
                    ComposedResourceState(
                        apiVersion: apiVersion, kind: kind, name: name, reason: "UnknownKind",
                        message: "the Crossplane cluster serves no \(kind) in \(apiVersion): is its provider installed?"))
                continue
            }
            let object: JSONValue
            do {
                object = try await client.get(resource.path(namespace: ref["namespace"]?.stringValue ?? namespace, name: name))
            } catch let error as KubernetesAPIError where error.isNotFound {
                continue
            }
            states.append(Self.state(of: object, apiVersion: apiVersion, kind: kind, name: name))
        }
        return states
    }

    static func state(of object: JSONValue, apiVersion: String, kind: String, name: String) -> ComposedResourceState {
        let conditions = object["status"]?["conditions"]?.arrayValue ?? []
        func condition(_ type: String) -> JSONValue? { conditions.first { $0["type"]?.stringValue == type } }
        let (synced, ready) = (condition("Synced"), condition("Ready"))
        // The provider's own error is on Synced=False (the API call failed); otherwise Ready says why not yet.
        let failing = [synced, ready].compactMap { $0 }.first { $0["status"]?.stringValue != "True" }
        return ComposedResourceState(
            apiVersion: apiVersion, kind: kind, name: name,
            compositionName: object["metadata"]?["annotations"]?["crossplane.io/composition-resource-name"]?.stringValue,
            synced: synced?["status"]?.stringValue, ready: ready?["status"]?.stringValue,
            reason: failing?["reason"]?.stringValue, message: failing?["message"]?.stringValue,
            deleting: object["metadata"]?["deletionTimestamp"] == nil ? nil : true)
    }

    /// The composed resource that holds provisioning up: one failing to sync (a provider error) first,
    /// then one not ready yet.
    static func blocking(_ states: [ComposedResourceState]) -> ComposedResourceState? {
        states.first { $0.synced == "False" } ?? states.first { !$0.isReady }
    }
}
