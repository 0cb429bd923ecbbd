import Foundation
import SplitPlaneProtocol
import Yams

/// The alert routing tree in Alertmanager's idioms: `route` with `receiver`, `matchers`, `continue`,
/// `group_by`, `group_wait`, `group_interval`, `repeat_interval` and child `routes`; children inherit
/// what they do not set. Receivers are declared by name under `receivers`.
public struct RoutingConfig: Sendable {
    public let root: Route
    public let receiverNames: [String]

    public static let defaultGroupBy = ["tenant", "environment", "alertname"]

    /// A node of the tree with everything inherited already resolved.
    public struct Route: Sendable {
        public var receiver: String
        public var matchers: [LabelMatcher]
        public var continueMatching: Bool
        public var groupBy: [String]
        public var groupWait: Duration
        public var groupInterval: Duration
        public var repeatInterval: Duration
        public var routes: [Route]
        /// `route`, `route.routes[1]`, … — how notifications and errors name this node.
        public var path: String

        /// Alertmanager's matching: a node that matches hands the alert to its first matching child
        /// (and further ones while those say `continue`), or takes it itself when no child matches.
        public func match(_ labels: [String: String]) -> [Route] {
            guard matchers.allSatisfy({ $0.matches(labels) }) else { return [] }
            var all: [Route] = []
            for child in routes {
                let matched = child.match(labels)
                all += matched
                if !matched.isEmpty && !child.continueMatching { break }
            }
            return all.isEmpty ? [self] : all
        }
    }

    /// Parses and validates; errors name the line and the node (`line 12: route.routes[0].group_wait: …`).
    public static func parse(yaml: String) throws(RoutingConfigError) -> RoutingConfig {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else { throw RoutingConfigError("the configuration is empty") }
            node = composed
        } catch let error as RoutingConfigError {
            throw error
        } catch {
            throw RoutingConfigError("not valid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
        guard let top = node.mapping else { throw RoutingConfigError(at(node, "", "expected a mapping with `route` and `receivers`")) }
        try refuseUnknownKeys(top, allowed: ["route", "receivers", "inhibit_rules"], path: "")
        var receivers: [String] = []
        for (index, receiver) in (top["receivers"]?.sequence ?? []).enumerated() {
            guard let name = receiver.mapping?["name"]?.string, !name.isEmpty else {
                throw RoutingConfigError(at(receiver, "receivers[\(index)]", "a receiver needs a `name`"))
            }
            if receivers.contains(name) { throw RoutingConfigError(at(receiver, "receivers[\(index)]", "duplicate receiver \"\(name)\"")) }
            receivers.append(name)
        }
        guard let routeNode = top["route"] else { throw RoutingConfigError("`route` is required") }
        let defaults = Route(receiver: "", matchers: [], continueMatching: false, groupBy: defaultGroupBy, groupWait: .seconds(30),
                             groupInterval: .seconds(300), repeatInterval: .seconds(4 * 3600), routes: [], path: "route")
        let root = try route(routeNode, inheriting: defaults, path: "route", receivers: receivers, isRoot: true)
        return RoutingConfig(root: root, receiverNames: receivers)
    }

    private static func route(_ node: Node, inheriting parent: Route, path: String, receivers: [String], isRoot: Bool) throws(RoutingConfigError) -> Route {
        guard let mapping = node.mapping else { throw RoutingConfigError(at(node, path, "expected a mapping")) }
        try refuseUnknownKeys(mapping, allowed: ["receiver", "matchers", "continue", "group_by", "group_wait", "group_interval",
                                                 "repeat_interval", "routes"], path: path)
        var route = parent
        route.path = path
        route.routes = []
        route.matchers = []
        route.continueMatching = false
        if let receiver = mapping["receiver"] {
            guard let name = receiver.string, receivers.contains(name) else {
                throw RoutingConfigError(at(receiver, "\(path).receiver", "unknown receiver \"\(receiver.string ?? "")\"; declared: \(receivers.joined(separator: ", "))"))
            }
            route.receiver = name
        } else if isRoot {
            throw RoutingConfigError(at(node, path, "the root route needs a `receiver`"))
        }
        if isRoot, mapping["matchers"] != nil { throw RoutingConfigError(at(node, path, "the root route matches everything; it takes no `matchers`")) }
        for (index, matcher) in (mapping["matchers"]?.sequence ?? []).enumerated() {
            do {
                route.matchers.append(try LabelMatcher.parse(matcher.string ?? ""))
            } catch {
                throw RoutingConfigError(at(matcher, "\(path).matchers[\(index)]", error.description))
            }
        }
        if let value = mapping["continue"] {
            guard let flag = value.bool else { throw RoutingConfigError(at(value, "\(path).continue", "expected true or false")) }
            if isRoot && flag { throw RoutingConfigError(at(value, "\(path).continue", "the root route cannot continue")) }
            route.continueMatching = flag
        }
        if let value = mapping["group_by"] {
            guard let names = value.sequence?.compactMap(\.string), names.count == value.sequence?.count else {
                throw RoutingConfigError(at(value, "\(path).group_by", "expected a list of label names"))
            }
            for name in names where name != "..." && !LabelMatcher.isLabelName(name) {
                throw RoutingConfigError(at(value, "\(path).group_by", "\"\(name)\" is not a label name"))
            }
            route.groupBy = names
        }
        for (key, keyPath) in [("group_wait", \Route.groupWait), ("group_interval", \Route.groupInterval), ("repeat_interval", \Route.repeatInterval)] {
            guard let value = mapping[key] else { continue }
            guard let text = value.string, let duration = PrometheusDuration.parse(text) else {
                throw RoutingConfigError(at(value, "\(path).\(key)", "\"\(value.string ?? "")\" is not a duration (e.g. 30s, 5m, 4h)"))
            }
            if key != "group_wait" && duration <= .zero { throw RoutingConfigError(at(value, "\(path).\(key)", "must be positive")) }
            route[keyPath: keyPath] = duration
        }
        for (index, child) in (mapping["routes"]?.sequence ?? []).enumerated() {
            route.routes.append(try Self.route(child, inheriting: route, path: "\(path).routes[\(index)]", receivers: receivers, isRoot: false))
        }
        return route
    }

    private static func refuseUnknownKeys(_ mapping: Node.Mapping, allowed: Set<String>, path: String) throws(RoutingConfigError) {
        for (key, _) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                throw RoutingConfigError(at(key, path.isEmpty ? (key.string ?? "?") : "\(path).\(key.string ?? "?")", "unknown field"))
            }
        }
    }

    private static func at(_ node: Node, _ path: String, _ message: String) -> String {
        let line = node.mark.map { "line \($0.line): " } ?? ""
        return path.isEmpty ? "\(line)\(message)" : "\(line)\(path): \(message)"
    }
}
