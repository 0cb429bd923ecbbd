import Foundation
import SplitPlaneProtocol
import Yams

/// Reading the routing YAML with errors that point at the line and the field.
enum ConfigNodes {
    static func at(_ node: Node, _ path: String, _ message: String) -> RoutingConfigError {
        let line = node.mark.map { "line \($0.line): " } ?? ""
        return RoutingConfigError(path.isEmpty ? "\(line)\(message)" : "\(line)\(path): \(message)")
    }

    static func mapping(_ node: Node, _ path: String, allowed: Set<String>) throws(RoutingConfigError) -> Node.Mapping {
        guard let mapping = node.mapping else { throw at(node, path, "expected a mapping") }
        for (key, _) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                throw at(key, path.isEmpty ? (key.string ?? "?") : "\(path).\(key.string ?? "?")", "unknown field")
            }
        }
        return mapping
    }

    static func matchers(_ node: Node?, _ path: String) throws(RoutingConfigError) -> [LabelMatcher] {
        guard let node else { return [] }
        guard let items = node.sequence else { throw at(node, path, "expected a list of matchers such as 'severity=\"critical\"'") }
        var matchers: [LabelMatcher] = []
        for (index, item) in items.enumerated() {
            do {
                matchers.append(try LabelMatcher.parse(item.string ?? ""))
            } catch {
                throw at(item, "\(path)[\(index)]", error.description)
            }
        }
        return matchers
    }

    static func labelNames(_ node: Node, _ path: String, allowEllipsis: Bool) throws(RoutingConfigError) -> [String] {
        guard let items = node.sequence, let names = Optional(items.compactMap(\.string)), names.count == items.count else {
            throw at(node, path, "expected a list of label names")
        }
        for name in names where !(allowEllipsis && name == "...") && !LabelMatcher.isLabelName(name) {
            throw at(node, path, "\"\(name)\" is not a label name")
        }
        return names
    }

    static func bool(_ node: Node, _ path: String) throws(RoutingConfigError) -> Bool {
        guard let flag = node.bool else { throw at(node, path, "expected true or false") }
        return flag
    }

    static func duration(_ node: Node, _ path: String) throws(RoutingConfigError) -> Duration {
        guard let text = node.string, let duration = PrometheusDuration.parse(text) else {
            throw at(node, path, "\"\(node.string ?? "")\" is not a duration (e.g. 30s, 5m, 4h)")
        }
        return duration
    }

    static func string(_ node: Node, _ path: String) throws(RoutingConfigError) -> String {
        guard let text = node.string, !text.isEmpty else { throw at(node, path, "expected a non-empty string") }
        return text
    }
}
