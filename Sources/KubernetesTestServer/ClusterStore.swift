import Foundation
import SplitPlaneProtocol

/// Where an object lives: group, plural resource, namespace ("" when cluster-scoped) and name.
struct ObjectKey: Hashable, Sendable {
    var group: String
    var resource: String
    var namespace: String
    var name: String

    init(_ resource: KubeResource, namespace: String?, name: String) {
        group = resource.group
        self.resource = resource.name
        self.namespace = resource.namespaced ? namespace ?? "" : ""
        self.name = name
    }
}

/// An object as stored: its JSON without `managedFields`, and its field managers.
struct StoredObject: Sendable, Equatable {
    var object: JSONValue
    var managers: [FieldManagerEntry]

    /// The object the way a GET answers it.
    var rendered: JSONValue {
        var result = object
        if !managers.isEmpty { result[path: ["metadata", "managedFields"]] = .array(managers.map(\.json)) }
        return result
    }

    var resourceVersion: String { object["metadata"]?["resourceVersion"]?.stringValue ?? "" }
    var uid: String { object["metadata"]?["uid"]?.stringValue ?? "" }
}

/// A watch event sent to one open watch.
struct WatchEvent: Sendable {
    var type: String
    var object: JSONValue
}

struct Watcher: Sendable {
    var resource: KubeResource
    var namespace: String?
    var labels: LabelSelector
    var fields: LabelSelector
    var continuation: AsyncStream<WatchEvent>.Continuation
}

/// The whole simulated cluster behind one lock: objects, the resourceVersion counter, and what
/// tests configured (token, failures, rules, request log).
struct ClusterStore: Sendable {
    var objects: [ObjectKey: StoredObject] = [:]
    var lastResourceVersion = 1000
    var token: String?
    var requests: [KubernetesTestServer.RecordedRequest] = []
    var failures: [Int: KubernetesTestServer.InjectedFailure] = [:]
    var nextFailureID = 1
    var rules: [JSONValue]?
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 1

    static let initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease", "qbeast"]

    init(token: String?) {
        self.token = token
        let namespaces = KubeResources.find(resource: "namespaces")!
        for name in Self.initialNamespaces {
            var object: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
            object = prepareNew(object, resource: namespaces, namespace: nil)
            store(StoredObject(object: object, managers: []), at: ObjectKey(namespaces, namespace: nil, name: name), event: nil)
        }
    }

    static func now() -> String {
        Date.ISO8601FormatStyle().format(Date())
    }

    mutating func nextResourceVersion() -> String {
        lastResourceVersion += 1
        return String(lastResourceVersion)
    }

    func namespaceExists(_ name: String) -> Bool {
        objects[ObjectKey(KubeResources.find(resource: "namespaces")!, namespace: nil, name: name)] != nil
    }

    /// Metadata the server sets on create; the object's status is the kind's initial one.
    mutating func prepareNew(_ object: JSONValue, resource: KubeResource, namespace: String?) -> JSONValue {
        var result = object
        result[path: ["apiVersion"]] = .string(resource.apiVersion)
        result[path: ["kind"]] = .string(resource.kind)
        var metadata = result["metadata"]?.objectValue ?? [:]
        if resource.namespaced, let namespace { metadata["namespace"] = .string(namespace) } else { metadata["namespace"] = nil }
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(Self.now())
        metadata["generation"] = resource.tracksGeneration ? 1 : nil
        metadata["resourceVersion"] = .string(nextResourceVersion())
        metadata["managedFields"] = nil
        metadata["selfLink"] = nil
        result[path: ["metadata"]] = .object(metadata)
        if resource.hasStatus { result[path: ["status"]] = resource.kind == "Namespace" ? ["phase": "Active"] : [:] }
        return result
    }

    /// Carries server-set metadata over from the stored object; bumps generation when anything
    /// outside metadata and status changed, and resourceVersion when anything changed at all.
    /// Returns nil when the write changes nothing.
    mutating func prepareUpdate(_ new: JSONValue, managers: [FieldManagerEntry], old: StoredObject) -> StoredObject? {
        var result = new
        var metadata = result["metadata"]?.objectValue ?? [:]
        for key in ["name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp"] {
            metadata[key] = old.object["metadata"]?[key]
        }
        metadata["managedFields"] = nil
        metadata["selfLink"] = nil
        result[path: ["apiVersion"]] = old.object["apiVersion"]
        result[path: ["kind"]] = old.object["kind"]
        result[path: ["metadata"]] = .object(metadata)
        if result == old.object && managers.sameIgnoringTime(old.managers) { return nil }
        if old.object["metadata"]?["generation"] != nil, Self.specPart(result) != Self.specPart(old.object) {
            let generation = (old.object[path: ["metadata", "generation"]]?.numberValue ?? 1) + 1
            result[path: ["metadata", "generation"]] = .number(generation)
        }
        result[path: ["metadata", "resourceVersion"]] = .string(nextResourceVersion())
        return StoredObject(object: result, managers: managers)
    }

    private static func specPart(_ object: JSONValue) -> JSONValue {
        var copy = object.objectValue ?? [:]
        copy["metadata"] = nil
        copy["status"] = nil
        return .object(copy)
    }

    /// Stores (or with `nil` deletes) and tells open watches.
    mutating func store(_ stored: StoredObject?, at key: ObjectKey, event: String?) {
        let previous = objects[key]
        var stored = stored
        var event = event
        // As the real server does: an object marked for deletion goes once its last finalizer is removed.
        if let object = stored?.object, object["metadata"]?["deletionTimestamp"] != nil,
            (object["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty
        {
            stored = nil
            if event != nil { event = "DELETED" }
        }
        objects[key] = stored
        guard let event, let object = stored?.rendered ?? previous?.rendered else { return }
        for watcher in watchers.values where watcher.resource.group == key.group && watcher.resource.name == key.resource {
            if let namespace = watcher.namespace, namespace != key.namespace { continue }
            guard watcher.labels.matches(LabelSelector.labels(of: object)), watcher.fields.matches(LabelSelector.fields(of: object)) else {
                continue
            }
            watcher.continuation.yield(WatchEvent(type: event, object: object))
        }
    }
}
