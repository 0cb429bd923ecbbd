import SplitPlaneProtocol

/// Server-side field ownership (structured merge): which fields a write touches, who loses them,
/// and what an apply prunes. Identity and server-set metadata are never owned.
enum FieldOwnership {
    private static let untrackedMetadata: Set<String> = [
        "f:name", "f:namespace", "f:uid", "f:resourceVersion", "f:generation", "f:creationTimestamp", "f:managedFields",
        "f:selfLink", "f:deletionTimestamp", "f:deletionGracePeriodSeconds",
    ]

    /// The owned paths a write of `object` sets: `.status` only for the status subresource, never
    /// `.status` for the main resource of a kind with a status subresource.
    static func tracked(_ object: JSONValue, subresource: String?, hasStatus: Bool) -> Set<FieldPath> {
        FieldPaths.paths(of: object).filter { path in
            guard let first = path.first, first != "f:apiVersion", first != "f:kind" else { return false }
            if first == "f:metadata" && (path.count == 1 || untrackedMetadata.contains(path[1])) { return false }
            if subresource == "status" { return first == "f:status" }
            return !(hasStatus && first == "f:status")
        }
    }

    /// A list item path counts as changed only when the item is new; leaves when their value differs.
    private static func changed(_ paths: Set<FieldPath>, from old: JSONValue?, to new: JSONValue) -> Set<FieldPath> {
        paths.filter { path in
            let before = FieldPaths.value(at: path, in: old)
            if path.last?.hasPrefix("k:") == true { return before == nil }
            return before != FieldPaths.value(at: path, in: new)
        }
    }

    /// An Update (create, replace, patch, out-of-band edit): the manager owns what it changed; other
    /// managers lose those fields; removed fields are owned by nobody.
    static func recordUpdate(
        old: JSONValue?, new: JSONValue, managers: [FieldManagerEntry], as entry: FieldManagerEntry,
        hasStatus: Bool
    ) -> [FieldManagerEntry] {
        let oldSet = old.map { tracked($0, subresource: entry.subresource, hasStatus: hasStatus) } ?? []
        let newSet = tracked(new, subresource: entry.subresource, hasStatus: hasStatus)
        let touched = changed(newSet, from: old, to: new)
        let removed = oldSet.subtracting(newSet)
        if touched.isEmpty && removed.isEmpty { return managers }
        var result = managers.map { other in
            var other = other
            if !other.isSameManager(as: entry) { other.fields.subtract(touched.union(removed)) }
            return other
        }
        if let index = result.firstIndex(where: { $0.isSameManager(as: entry) }) {
            result[index].fields = result[index].fields.subtracting(removed).union(touched)
            result[index].time = entry.time
        } else {
            var added = entry
            added.fields = touched
            result.append(added)
        }
        return result.filter { !$0.fields.isEmpty }
    }

    struct Conflict: Sendable {
        var manager: String
        var path: FieldPath
    }

    /// A server-side apply of `config` (already limited to what this endpoint may set) over `live`.
    /// Throws the conflicts unless forced; returns the merged, pruned object and the new owners.
    static func apply(
        live: JSONValue?, config: JSONValue, managers: [FieldManagerEntry], as entry: FieldManagerEntry,
        force: Bool, hasStatus: Bool
    ) throws(ApplyConflicts) -> (JSONValue, [FieldManagerEntry]) {
        let applied = tracked(config, subresource: entry.subresource, hasStatus: hasStatus)
        let changing = changed(applied, from: live, to: config)
        var others = managers.filter { !$0.isSameManager(as: entry) }
        var conflicts: [Conflict] = []
        for other in others {
            for path in other.fields.intersection(changing).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                conflicts.append(Conflict(manager: other.conflictName, path: path))
            }
        }
        if !conflicts.isEmpty && !force { throw ApplyConflicts(conflicts: conflicts) }
        for index in others.indices { others[index].fields.subtract(changing) }

        var merged = StructuredMerge.apply(config, onto: live ?? .object([:]))
        let previous = managers.first { $0.isSameManager(as: entry) }?.fields ?? []
        let stillOwned = others.reduce(applied) { $0.union($1.fields) }
        for path in previous.subtracting(applied).sorted(by: { $0.count < $1.count }) {
            if stillOwned.contains(where: { $0.starts(with: path) }) { continue }
            merged = FieldPaths.removing(path, from: merged)
        }

        var result = managers.map { manager in others.first { $0.isSameManager(as: manager) } ?? manager }
        var updated = entry
        updated.fields = applied
        if let index = result.firstIndex(where: { $0.isSameManager(as: entry) }) {
            // Keep the old time when nothing this manager owns changed, so a repeated apply is a no-op.
            if result[index].fields == applied && result[index].apiVersion == entry.apiVersion { updated.time = result[index].time }
            result[index] = updated
        } else {
            result.append(updated)
        }
        return (merged, result.filter { !$0.fields.isEmpty })
    }
}

/// An apply that would change fields other managers own.
struct ApplyConflicts: Error, Sendable {
    var conflicts: [FieldOwnership.Conflict]

    /// The API server's 409: `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`.
    var statusError: KubeStatusError {
        let message: String
        if conflicts.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(conflicts[0].manager): \(FieldPaths.describe(conflicts[0].path))"
        } else {
            var lines: [String] = []
            for manager in Set(conflicts.map(\.manager)).sorted() {
                lines.append("conflicts with \(manager):")
                lines += conflicts.filter { $0.manager == manager }.map { "- \(FieldPaths.describe($0.path))" }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        let causes: [JSONValue] = conflicts.map {
            ["type": "FieldManagerConflict", "message": .string("conflict with \($0.manager)"), "field": .string(FieldPaths.describe($0.path))]
        }
        return KubeStatusError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }
}
