import Foundation
import SplitPlaneProtocol

extension ClusterStore {
    private func requireNamespace(_ request: ObjectRequest) throws(KubeStatusError) {
        if request.resource.namespaced, let namespace = request.namespace, !namespaceExists(namespace) {
            throw .namespaceNotFound(namespace)
        }
    }

    private func existing(_ request: ObjectRequest) throws(KubeStatusError) -> StoredObject {
        if request.subresource == "status" && !request.resource.hasStatus { throw .pathNotFound }
        guard let stored = objects[request.key] else { throw .notFound(request.resource, request.name ?? "") }
        return stored
    }

    /// What a write may change: the main resource keeps the stored status, the status subresource
    /// keeps everything but status.
    private func limited(_ new: JSONValue, old: JSONValue, _ request: ObjectRequest) -> JSONValue {
        var result = new
        if request.subresource == "status" {
            result = old
            result[path: ["status"]] = new["status"]
        } else if request.resource.hasStatus {
            result[path: ["status"]] = old["status"]
        }
        return result
    }

    mutating func create(_ request: ObjectRequest, body: JSONValue) throws(KubeStatusError) -> JSONValue {
        try request.checkBody(body)
        var body = body
        var name = body["metadata"]?["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = body["metadata"]?["generateName"]?.stringValue, !prefix.isEmpty {
            name = prefix + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
            body[path: ["metadata", "name"]] = .string(name)
        }
        guard !name.isEmpty else {
            throw .invalid(
                request.resource, name: "", field: "metadata.name", causeReason: "FieldValueRequired",
                detail: "Required value: name or generateName is required")
        }
        var named = request
        named.name = name
        try requireNamespace(named)
        if objects[named.key] != nil { throw .alreadyExists(request.resource, name) }
        let object = prepareNew(body, resource: request.resource, namespace: request.namespace)
        let managers = FieldOwnership.recordUpdate(
            old: nil, new: object, managers: [], as: request.entry(operation: "Update"),
            hasStatus: request.resource.hasStatus)
        let stored = StoredObject(object: object, managers: managers)
        if !request.dryRun { store(stored, at: named.key, event: "ADDED") }
        return stored.rendered
    }

    /// PUT, and every non-apply PATCH once the patch is applied: an Update by the request's manager.
    mutating func replace(_ request: ObjectRequest, body: JSONValue, manager: String? = nil) throws(KubeStatusError) -> JSONValue {
        let old = try existing(request)
        try request.checkBody(body)
        if let version = body["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty, version != old.resourceVersion {
            throw .modified(request.resource, request.name ?? "")
        }
        let new = limited(body, old: old.object, request)
        let managers = FieldOwnership.recordUpdate(
            old: old.object, new: new, managers: old.managers,
            as: request.entry(operation: "Update", manager: manager),
            hasStatus: request.resource.hasStatus)
        guard let stored = prepareUpdate(new, managers: managers, old: old) else { return old.rendered }
        if !request.dryRun { store(stored, at: request.key, event: "MODIFIED") }
        return stored.rendered
    }

    mutating func patch(_ request: ObjectRequest, contentType: String, body: Data) throws(KubeStatusError) -> (created: Bool, object: JSONValue) {
        if contentType == "application/apply-patch+yaml" { return try apply(request, body: body) }
        let old = try existing(request)
        let patch: JSONValue
        do { patch = try KubeJSON.parse(body) } catch { throw .badRequest("error decoding patch: \(error)") }
        let patched: JSONValue
        switch contentType {
        case "application/merge-patch+json": patched = StructuredMerge.mergePatch(patch, onto: old.rendered)
        case "application/strategic-merge-patch+json": patched = StructuredMerge.strategicPatch(patch, onto: old.rendered)
        case "application/json-patch+json": patched = try JSONPatch.apply(patch, to: old.rendered)
        default: throw .unsupportedMediaType(contentType)
        }
        return (false, try replace(request, body: patched))
    }

    /// Server-side apply: create or merge, with field ownership, conflicts and pruning.
    mutating func apply(_ request: ObjectRequest, body: Data) throws(KubeStatusError) -> (created: Bool, object: JSONValue) {
        guard let manager = request.query["fieldManager"], !manager.isEmpty else {
            throw .invalid(
                qualifiedKind: "PatchOptions.meta.k8s.io", kind: "PatchOptions", group: "meta.k8s.io", name: "",
                field: "fieldManager", causeReason: "FieldValueRequired", detail: "Required value: is required for apply patch")
        }
        var config: JSONValue
        do { config = try KubeJSON.parseJSONOrYAML(body) } catch { throw .badRequest("error decoding YAML: \(error)") }
        try request.checkBody(config)
        guard config["apiVersion"]?.stringValue != nil, config["kind"]?.stringValue != nil else {
            throw .badRequest("invalid object type: /, Kind=")
        }
        let force = request.query["force"] == "true"
        if let version = config["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty,
            let old = objects[request.key], version != old.resourceVersion
        {
            throw .modified(request.resource, request.name ?? "")
        }
        for key in ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"] {
            config[path: ["metadata", key]] = nil
        }
        if request.subresource == "status" {
            config = ["apiVersion": config["apiVersion"] ?? .null, "kind": config["kind"] ?? .null, "status": config["status"] ?? [:]]
        } else if request.resource.hasStatus {
            config[path: ["status"]] = nil
        }
        let entry = request.entry(operation: "Apply", manager: manager)
        let current = objects[request.key]
        if current == nil {
            if request.subresource == "status" { throw .notFound(request.resource, request.name ?? "") }
            try requireNamespace(request)
        }
        let result: (JSONValue, [FieldManagerEntry])
        do {
            result = try FieldOwnership.apply(
                live: current?.object, config: config, managers: current?.managers ?? [], as: entry,
                force: force, hasStatus: request.resource.hasStatus)
        } catch {
            throw error.statusError
        }
        let (merged, managers) = result
        guard let old = current else {
            var object = merged
            object[path: ["metadata", "name"]] = .string(request.name ?? "")
            object = prepareNew(object, resource: request.resource, namespace: request.namespace)
            let stored = StoredObject(object: object, managers: managers)
            if !request.dryRun { store(stored, at: request.key, event: "ADDED") }
            return (true, stored.rendered)
        }
        guard let stored = prepareUpdate(merged, managers: managers, old: old) else { return (false, old.rendered) }
        if !request.dryRun { store(stored, at: request.key, event: "MODIFIED") }
        return (false, stored.rendered)
    }

    /// DELETE with optional DeleteOptions preconditions; answers a success Status as the server does
    /// for objects deleted at once. Deleting a namespace deletes what is in it.
    mutating func delete(_ request: ObjectRequest, options: JSONValue?) throws(KubeStatusError) -> JSONValue {
        let old = try existing(request)
        if request.subresource != nil { throw .methodNotAllowed }
        let name = request.name ?? ""
        if let uid = options?["preconditions"]?["uid"]?.stringValue, uid != old.uid {
            throw .conflict(request.resource, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.uid)")
        }
        if let version = options?["preconditions"]?["resourceVersion"]?.stringValue, version != old.resourceVersion {
            throw .conflict(
                request.resource, name,
                "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(old.resourceVersion)")
        }
        // Finalizers hold the object: it is only marked (deletionTimestamp) until they are all removed.
        if !(old.object["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty {
            var marked = old
            if marked.object["metadata"]?["deletionTimestamp"] == nil, !request.dryRun {
                marked.object[path: ["metadata", "deletionTimestamp"]] = .string(Self.now())
                marked.object[path: ["metadata", "resourceVersion"]] = .string(nextResourceVersion())
                store(marked, at: request.key, event: "MODIFIED")
            }
            return marked.rendered
        }
        if !request.dryRun {
            if request.resource.name == "namespaces" && request.resource.group.isEmpty {
                for key in objects.keys where key.namespace == name { store(nil, at: key, event: "DELETED") }
            }
            store(nil, at: request.key, event: "DELETED")
        }
        var details: [String: JSONValue] = ["name": .string(name), "kind": .string(request.resource.name), "uid": .string(old.uid)]
        if !request.resource.group.isEmpty { details["group"] = .string(request.resource.group) }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": .object(details)]
    }
}

extension ClusterStore {
    /// DELETE on a collection: deletes what the selectors match; answers the deleted objects as a list.
    mutating func deleteCollection(_ request: ObjectRequest) throws(KubeStatusError) -> JSONValue {
        var deleted = try list(request)
        if !request.dryRun {
            for object in deleted["items"]?.arrayValue ?? [] {
                var single = request
                single.namespace = object["metadata"]?["namespace"]?.stringValue
                single.name = object["metadata"]?["name"]?.stringValue
                _ = try delete(single, options: nil)
            }
        }
        deleted[path: ["metadata", "resourceVersion"]] = .string(String(lastResourceVersion))
        return deleted
    }
}
