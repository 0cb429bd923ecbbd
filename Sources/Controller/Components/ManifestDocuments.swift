import Foundation
import SplitPlaneProtocol
import Yams

/// Splits a multi-document YAML stream (what `helm template` prints) into Kubernetes objects as JSON,
/// the way Kubernetes' own YAML reader does: empty documents and `null` are skipped, every other
/// document must be a mapping with `apiVersion` and `kind`.
public enum ManifestDocuments {
    public struct Malformed: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    public static func objects(fromYAML yaml: String) throws(Malformed) -> [JSONValue] {
        var documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            throw Malformed(reason: "not valid YAML: \(error)")
        }
        var objects: [JSONValue] = []
        var index = 0
        while let node = documents.next() {
            index += 1
            let value: JSONValue
            do {
                value = try json(node)
            } catch let error as Malformed {
                throw Malformed(reason: "document \(index): \(error.reason)")
            } catch {
                throw Malformed(reason: "document \(index): \(error)")
            }
            if value == .null { continue }
            guard case .object(let object) = value else {
                throw Malformed(reason: "document \(index) is not a mapping (a Kubernetes object)")
            }
            if object.isEmpty { continue }
            guard case .string(let apiVersion)? = object["apiVersion"], !apiVersion.isEmpty,
                case .string(let kind)? = object["kind"], !kind.isEmpty
            else {
                throw Malformed(reason: "document \(index) has no `apiVersion` and `kind`")
            }
            objects.append(value)
        }
        if let error = documents.error {
            throw Malformed(reason: "not valid YAML after document \(index): \(error)")
        }
        return objects
    }

    /// A YAML node as JSON: scalars by their resolved tag (null, bool, int, float; everything else,
    /// timestamps included, stays a string, as Kubernetes reads them).
    static func json(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue:
                if let int = node.int { return .number(Double(int)) }
                return .string(scalar.string)
            case Tag.Name.float.rawValue:
                guard let float = node.float else { return .string(scalar.string) }
                guard float.isFinite else { throw Malformed(reason: "\"\(scalar.string)\" is not a number JSON can hold") }
                return .number(float)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map(json))
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else { throw Malformed(reason: "a mapping key is not a string") }
                if key.tag.rawValue == Tag.Name.merge.rawValue { throw Malformed(reason: "YAML merge keys (<<) are not supported") }
                object[keyScalar.string] = try json(value)
            }
            return .object(object)
        case .alias:
            throw Malformed(reason: "unresolved YAML alias")
        }
    }
}
