import SplitPlaneProtocol

/// Merging an applied configuration or a strategic merge patch into an object: objects merge by
/// field, keyed lists (containers, env, ports, …) merge by their merge key, everything else is replaced.
enum StructuredMerge {
    /// Server-side apply's merge: the applied value wins wherever it sets a field; `null` clears it.
    static func apply(_ config: JSONValue, onto live: JSONValue, path: FieldPath = []) -> JSONValue {
        switch (live, config) {
        case (.object(var result), .object(let applied)) where !FieldPaths.isAtomicObject(path):
            for (key, value) in applied {
                if value == .null {
                    result[key] = nil
                } else if let existing = result[key] {
                    result[key] = apply(value, onto: existing, path: path + ["f:" + key])
                } else {
                    result[key] = value
                }
            }
            return .object(result)
        case (.array(let current), .array(let applied)):
            let name = path.last.map { String($0.dropFirst(2)) } ?? ""
            guard !applied.isEmpty, let keys = FieldPaths.mergeKeys(list: name, items: applied),
                FieldPaths.mergeKeys(list: name, items: current) == keys
            else { return config }
            var result = current
            for item in applied {
                let key = FieldPaths.keyObject(of: item, keys: keys)
                if let index = result.firstIndex(where: { FieldPaths.matches($0, keyObject: key) }) {
                    result[index] = apply(item, onto: result[index], path: path + [FieldPaths.itemElement(item, keys: keys)])
                } else {
                    result.append(item)
                }
            }
            return .array(result)
        default:
            return config
        }
    }

    /// A strategic merge patch: like a JSON merge patch, but keyed lists merge item by item, and an
    /// item with `"$patch": "delete"` is removed. Other `$` directives are dropped.
    static func strategicPatch(_ patch: JSONValue, onto target: JSONValue, path: FieldPath = []) -> JSONValue {
        switch (target, patch) {
        case (_, .object(let patchObject)):
            if patchObject["$patch"] == "replace" { return stripDirectives(patch) }
            var result = target.objectValue ?? [:]
            for (key, value) in patchObject where !key.hasPrefix("$") {
                if value == .null {
                    result[key] = nil
                } else {
                    result[key] = strategicPatch(value, onto: result[key] ?? .null, path: path + ["f:" + key])
                }
            }
            return .object(result)
        case (.array(let current), .array(let items)):
            let name = path.last.map { String($0.dropFirst(2)) } ?? ""
            guard !items.isEmpty, let keys = FieldPaths.mergeKeys(list: name, items: items),
                FieldPaths.mergeKeys(list: name, items: current) == keys
            else { return stripDirectives(patch) }
            var result = current
            for item in items {
                let key = FieldPaths.keyObject(of: item, keys: keys)
                let index = result.firstIndex { FieldPaths.matches($0, keyObject: key) }
                if item["$patch"] == "delete" {
                    if let index { result.remove(at: index) }
                } else if let index {
                    result[index] = strategicPatch(item, onto: result[index], path: path + [FieldPaths.itemElement(item, keys: keys)])
                } else {
                    result.append(stripDirectives(item))
                }
            }
            return .array(result)
        default:
            return stripDirectives(patch)
        }
    }

    /// RFC 7386 JSON merge patch.
    static func mergePatch(_ patch: JSONValue, onto target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchObject {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = mergePatch(value, onto: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    private static func stripDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(object.filter { !$0.key.hasPrefix("$") }.mapValues(stripDirectives))
        case .array(let items):
            return .array(items.map(stripDirectives))
        default:
            return value
        }
    }
}
