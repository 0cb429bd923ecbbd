import SplitPlaneProtocol

/// A request addressed to a resource: `/apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]`.
struct ObjectRequest: Sendable {
    var resource: KubeResource
    var namespace: String?
    var name: String?
    var subresource: String?
    var query: [String: String]
    var userAgent: String?

    var dryRun: Bool { query["dryRun"] == "All" }

    /// The field manager of a write: `fieldManager`, else the User-Agent's first token (as the server does).
    var manager: String {
        if let manager = query["fieldManager"], !manager.isEmpty { return manager }
        let agent = userAgent.map { String($0.split(separator: "/", maxSplits: 1).first ?? "") } ?? ""
        return agent.isEmpty ? "unknown" : String(agent.prefix(128))
    }

    var key: ObjectKey { ObjectKey(resource, namespace: namespace, name: name ?? "") }

    func entry(operation: String, manager: String? = nil) -> FieldManagerEntry {
        FieldManagerEntry(
            manager: manager ?? self.manager, operation: operation, apiVersion: resource.apiVersion,
            time: ClusterStore.now(), subresource: subresource, fields: [])
    }

    /// The request body must be an object of this resource's kind, in this namespace, with this name.
    func checkBody(_ body: JSONValue) throws(KubeStatusError) {
        guard body.objectValue != nil else {
            throw .badRequest("the body of the request was not a \(resource.kind) object")
        }
        if let apiVersion = body["apiVersion"]?.stringValue, apiVersion != resource.apiVersion {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.apiVersion))")
        }
        if let kind = body["kind"]?.stringValue, kind != resource.kind {
            throw .badRequest("the kind in the data (\(kind)) does not match the expected kind (\(resource.kind))")
        }
        if resource.namespaced, let namespace, let given = body["metadata"]?["namespace"]?.stringValue, !given.isEmpty, given != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if let name, let given = body["metadata"]?["name"]?.stringValue, !given.isEmpty, given != name {
            throw .badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
    }
}
