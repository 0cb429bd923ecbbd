import Foundation
import SplitPlaneProtocol
import Yams

/// JSON text in and out for the Kubernetes test server: compact, sorted keys, integral numbers
/// without a fraction (as Go writes them), YAML accepted where the API server accepts it.
enum KubeJSON {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func encode(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func data(_ value: JSONValue) -> Data { Data(encode(value).utf8) }

    static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ParseError(description: "invalid JSON: \(error)")
        }
    }

    /// JSON first (what kubectl sends); YAML when the body is not JSON.
    static func parseJSONOrYAML(_ data: Data) throws -> JSONValue {
        if let value = try? JSONDecoder().decode(JSONValue.self, from: data) { return value }
        do {
            guard let loaded = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) else { return .null }
            return try fromYAML(loaded)
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(description: "error converting YAML to JSON: \(error)")
        }
    }

    private static func fromYAML(_ any: Any) throws -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(try value.map(fromYAML))
        case let value as [String: Any]: return .object(try value.mapValues(fromYAML))
        case let value as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, item) in value { object["\(key)"] = try fromYAML(item) }
            return .object(object)
        default: throw ParseError(description: "unsupported YAML value \(any)")
        }
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let bool): out += bool ? "true" : "false"
        case .number(let number): out += format(number)
        case .string(let string): writeString(string, to: &out)
        case .array(let array):
            out += "["
            for (index, item) in array.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(object[key]!, to: &out)
            }
            out += "}"
        }
    }

    static func format(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }

    private static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// Reads or writes a nested member of an object, creating objects along the way on write.
    subscript(path path: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in path { current = current?[key] }
            return current
        }
        set {
            guard let first = path.first else {
                if let newValue { self = newValue }
                return
            }
            var object = objectValue ?? [:]
            if path.count == 1 {
                object[first] = newValue
            } else {
                var child = object[first] ?? .object([:])
                child[path: Array(path.dropFirst())] = newValue
                object[first] = child
            }
            self = .object(object)
        }
    }
}
