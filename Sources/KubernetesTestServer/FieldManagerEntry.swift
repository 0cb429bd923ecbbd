import SplitPlaneProtocol

/// One `metadata.managedFields` entry: who set which fields, by apply or by update.
struct FieldManagerEntry: Sendable, Equatable {
    var manager: String
    var operation: String
    var apiVersion: String
    var time: String
    var subresource: String?
    var fields: Set<FieldPath>

    /// The server's manager identity: appliers are one manager whatever the API version; updaters per version.
    func isSameManager(as other: FieldManagerEntry) -> Bool {
        manager == other.manager && operation == other.operation && subresource == other.subresource
            && (operation == "Apply" || apiVersion == other.apiVersion)
    }

    /// `"kubectl-edit" using apps/v1`, or `"kubectl"` for an applier: how conflict messages name a manager.
    var conflictName: String {
        var text = KubeJSON.encode(.string(manager))
        if let subresource { text += " with subresource \(KubeJSON.encode(.string(subresource)))" }
        return operation == "Update" ? "\(text) using \(apiVersion)" : text
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": FieldPaths.fieldsV1(fields),
        ]
        if let subresource { object["subresource"] = .string(subresource) }
        return .object(object)
    }

    /// Entries equal but for their time: a write that changes nothing else is not a write.
    func sameIgnoringTime(_ other: FieldManagerEntry) -> Bool {
        var copy = other
        copy.time = time
        return copy == self
    }
}

extension [FieldManagerEntry] {
    func sameIgnoringTime(_ other: [FieldManagerEntry]) -> Bool {
        count == other.count && zip(self, other).allSatisfy { $0.sameIgnoringTime($1) }
    }
}
