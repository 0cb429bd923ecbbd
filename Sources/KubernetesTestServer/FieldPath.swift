import Foundation
import SplitPlaneProtocol

/// A field path in the elements FieldsV1 uses: `["f:spec", "f:template", "f:spec", "f:containers",
/// "k:{\"name\":\"web\"}", "f:image"]`. Lists of containers, env, volumes, ports and the like are
/// keyed by their merge key (`k:{...}`); every other list is atomic, a leaf like a scalar.
typealias FieldPath = [String]

enum FieldPaths {
    /// Merge keys by list field name, as the built-in types declare them (`+listMapKey`).
    static func mergeKeys(list name: String, items: [JSONValue]) -> [String]? {
        let keys: [String]
        switch name {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes": keys = ["name"]
        case "volumeMounts": keys = ["mountPath"]
        case "conditions": keys = ["type"]
        case "ports":
            if items.allSatisfy({ $0["containerPort"] != nil }) {
                keys = ["containerPort", "protocol"]
            } else if items.allSatisfy({ $0["port"] != nil }) {
                keys = ["port", "protocol"]
            } else {
                return nil
            }
        default: return nil
        }
        let required = keys.filter { defaultKeyValue($0) == nil }
        guard items.allSatisfy({ item in item.objectValue != nil && required.allSatisfy { item[$0] != nil } }) else { return nil }
        return keys
    }

    /// Key fields the schema defaults (a port's protocol is TCP unless stated).
    static func defaultKeyValue(_ key: String) -> JSONValue? { key == "protocol" ? "TCP" : nil }

    static func keyObject(of item: JSONValue, keys: [String]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for key in keys { object[key] = item[key] ?? defaultKeyValue(key) }
        return .object(object)
    }

    static func itemElement(_ item: JSONValue, keys: [String]) -> String { "k:" + KubeJSON.encode(keyObject(of: item, keys: keys)) }

    static func matches(_ item: JSONValue, keyObject: JSONValue) -> Bool {
        guard let wanted = keyObject.objectValue, item.objectValue != nil else { return false }
        return wanted.allSatisfy { key, value in (item[key] ?? defaultKeyValue(key)) == value }
    }

    /// Objects owned as a whole (`x-kubernetes-map-type: atomic`): workload and Service selectors.
    static func isAtomicObject(_ path: FieldPath) -> Bool { path == ["f:spec", "f:selector"] }

    /// Every path the value sets: leaves (scalars, atomic lists, empty objects) and keyed list items.
    static func paths(of value: JSONValue) -> Set<FieldPath> {
        var set = Set<FieldPath>()
        collect(value, path: [], into: &set)
        return set
    }

    private static func collect(_ value: JSONValue, path: FieldPath, into set: inout Set<FieldPath>) {
        switch value {
        case .object(let object):
            if object.isEmpty || isAtomicObject(path) {
                if !path.isEmpty { set.insert(path) }
                return
            }
            for (key, child) in object { collect(child, path: path + ["f:" + key], into: &set) }
        case .array(let items):
            let listName = path.last.map { String($0.dropFirst(2)) } ?? ""
            if !items.isEmpty, path.last?.hasPrefix("f:") == true, let keys = mergeKeys(list: listName, items: items) {
                for item in items {
                    let itemPath = path + [itemElement(item, keys: keys)]
                    set.insert(itemPath)
                    if item.objectValue?.isEmpty == false { collect(item, path: itemPath, into: &set) }
                }
            } else {
                set.insert(path)
            }
        default:
            set.insert(path)
        }
    }

    static func value(at path: FieldPath, in value: JSONValue?) -> JSONValue? {
        var current = value
        for element in path {
            guard let node = current else { return nil }
            if element.hasPrefix("f:") {
                current = node[String(element.dropFirst(2))]
            } else if element.hasPrefix("k:"), let key = try? KubeJSON.parse(Array(element.dropFirst(2).utf8).data) {
                current = node.arrayValue?.first { matches($0, keyObject: key) }
            } else {
                return nil
            }
        }
        return current
    }

    static func removing(_ path: FieldPath, from value: JSONValue) -> JSONValue {
        guard let element = path.first else { return value }
        let rest = Array(path.dropFirst())
        if element.hasPrefix("f:"), case .object(var object) = value {
            let key = String(element.dropFirst(2))
            if rest.isEmpty {
                object[key] = nil
            } else if let child = object[key] {
                object[key] = removing(rest, from: child)
            }
            return .object(object)
        }
        if element.hasPrefix("k:"), case .array(var items) = value, let key = try? KubeJSON.parse(Array(element.dropFirst(2).utf8).data),
            let index = items.firstIndex(where: { matches($0, keyObject: key) })
        {
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                items[index] = removing(rest, from: items[index])
            }
            return .array(items)
        }
        return value
    }

    /// `.spec.template.spec.containers[name="web"].image`, as conflict messages print a path.
    static func describe(_ path: FieldPath) -> String {
        var text = ""
        for element in path {
            let body = String(element.dropFirst(2))
            if element.hasPrefix("f:") {
                text += "." + body
            } else if element.hasPrefix("k:"), let key = try? KubeJSON.parse(Array(body.utf8).data), let object = key.objectValue {
                text += "[" + object.keys.sorted().map { "\($0)=\(KubeJSON.encode(object[$0]!))" }.joined(separator: ",") + "]"
            } else if element.hasPrefix("v:") {
                text += "[=\(body)]"
            } else {
                text += "[\(body)]"
            }
        }
        return text
    }

    /// FieldsV1: a tree of path elements, `{}` for a leaf, `".": {}` for a member that also has children.
    static func fieldsV1(_ set: Set<FieldPath>) -> JSONValue {
        var root: JSONValue = .object([:])
        for path in set {
            if root[path: path] == nil { root[path: path] = .object([:]) }
        }
        return markMembers(root, members: set, path: [])
    }

    private static func markMembers(_ node: JSONValue, members: Set<FieldPath>, path: FieldPath) -> JSONValue {
        guard var object = node.objectValue else { return node }
        for (key, child) in object where key != "." {
            object[key] = markMembers(child, members: members, path: path + [key])
        }
        if !path.isEmpty, members.contains(path), object.keys.contains(where: { $0 != "." }) { object["."] = .object([:]) }
        return .object(object)
    }

    static func set(fromFieldsV1 value: JSONValue) -> Set<FieldPath> {
        var set = Set<FieldPath>()
        func walk(_ node: JSONValue, _ path: FieldPath) {
            guard let object = node.objectValue else { return }
            if !path.isEmpty, object.isEmpty || object["."] != nil { set.insert(path) }
            for (key, child) in object where key != "." { walk(child, path + [key]) }
        }
        walk(value, [])
        return set
    }
}

private extension Array where Element == UInt8 {
    var data: Data { Data(self) }
}
