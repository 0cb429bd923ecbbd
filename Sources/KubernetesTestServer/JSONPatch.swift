import Foundation
import SplitPlaneProtocol

/// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
enum JSONPatch {
    static func apply(_ patch: JSONValue, to document: JSONValue) throws(KubeStatusError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        var result = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw .badRequest("the server rejected our request due to an error in our request")
            }
            let pointer = try parse(path)
            switch op {
            case "add":
                result = try set(operation["value"] ?? .null, at: pointer[...], in: result, insert: true)
            case "replace":
                _ = try get(pointer[...], in: result, op: op, path: path)
                result = try set(operation["value"] ?? .null, at: pointer[...], in: result, insert: false)
            case "remove":
                _ = try get(pointer[...], in: result, op: op, path: path)
                result = try remove(pointer[...], from: result)
            case "test":
                guard try get(pointer[...], in: result, op: op, path: path) == operation["value"] else {
                    throw .badRequest("the server rejected our request due to an error in our request")
                }
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else { throw .badRequest("missing from in \(op) operation") }
                let source = try parse(from)
                let value = try get(source[...], in: result, op: op, path: from)
                if op == "move" { result = try remove(source[...], from: result) }
                result = try set(value, at: pointer[...], in: result, insert: true)
            default:
                throw .badRequest("Unexpected kind: \(op)")
            }
        }
        return result
    }

    private static func parse(_ path: String) throws(KubeStatusError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .badRequest("JSON pointer must start with /: \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ pointer: ArraySlice<String>, in value: JSONValue, op: String, path: String) throws(KubeStatusError) -> JSONValue {
        guard let first = pointer.first else { return value }
        let child: JSONValue?
        switch value {
        case .object(let object): child = object[first]
        case .array(let items): child = Int(first).flatMap { items.indices.contains($0) ? items[$0] : nil }
        default: child = nil
        }
        guard let child else {
            throw .badRequest("the server rejected our request due to an error in our request")
        }
        return try get(pointer.dropFirst(), in: child, op: op, path: path)
    }

    private static func set(_ newValue: JSONValue, at pointer: ArraySlice<String>, in value: JSONValue, insert: Bool) throws(KubeStatusError) -> JSONValue {
        guard let first = pointer.first else { return newValue }
        let last = pointer.count == 1
        switch value {
        case .object(var object):
            if last {
                object[first] = newValue
            } else {
                guard let child = object[first] else { throw .badRequest("add operation does not apply: doc is missing path") }
                object[first] = try set(newValue, at: pointer.dropFirst(), in: child, insert: insert)
            }
            return .object(object)
        case .array(var items):
            let index = first == "-" ? items.count : Int(first) ?? -1
            guard index >= 0, index <= items.count else { throw .badRequest("add operation does not apply: index out of bounds") }
            if last {
                if insert { items.insert(newValue, at: index) } else if index < items.count { items[index] = newValue }
            } else {
                guard index < items.count else { throw .badRequest("add operation does not apply: index out of bounds") }
                items[index] = try set(newValue, at: pointer.dropFirst(), in: items[index], insert: insert)
            }
            return .array(items)
        default:
            throw .badRequest("add operation does not apply: doc is missing path")
        }
    }

    private static func remove(_ pointer: ArraySlice<String>, from value: JSONValue) throws(KubeStatusError) -> JSONValue {
        guard let first = pointer.first else { return .null }
        switch value {
        case .object(var object):
            if pointer.count == 1 {
                object[first] = nil
            } else if let child = object[first] {
                object[first] = try remove(pointer.dropFirst(), from: child)
            }
            return .object(object)
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { throw .badRequest("remove operation does not apply") }
            if pointer.count == 1 { items.remove(at: index) } else { items[index] = try remove(pointer.dropFirst(), from: items[index]) }
            return .array(items)
        default:
            return value
        }
    }
}
