import Foundation
import SplitPlaneProtocol
import Yams

/// The alert routing configuration in Alertmanager's idioms: a `route` tree with `receiver`, `matchers`,
/// `continue`, `group_by`, `group_wait`, `group_interval`, `repeat_interval` and child `routes`
/// (children inherit what they do not set); `receivers` with their integrations; `inhibit_rules`.
/// Two additions: `repeat_interval: never`, and per route `send_resolved` and `ack_timeout`.
public struct RoutingConfig: Sendable {
    public let root: Route
    public let receivers: [ReceiverConfig]
    public let inhibitRules: [InhibitRule]

    public static let defaultGroupBy = ["tenant", "environment", "alertname"]

    /// A node of the tree with everything inherited already resolved.
    public struct Route: Sendable {
        public var receiver: String
        public var matchers: [LabelMatcher]
        public var continueMatching: Bool
        public var groupBy: [String]
        public var groupWait: Duration
        public var groupInterval: Duration
        /// nil: notify once, never repeat.
        public var repeatInterval: Duration?
        public var sendResolved: Bool
        /// An acknowledged group still firing this long after the acknowledgement is notified again.
        public var ackTimeout: Duration?
        public var routes: [Route]
        /// `route`, `route.routes[1]`, … — how groups, notifications and errors name this node.
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

        /// Every node of the subtree, depth first.
        public var all: [Route] { [self] + routes.flatMap(\.all) }
    }

    public func receiver(named name: String) -> ReceiverConfig? { receivers.first { $0.name == name } }

    public func route(at path: String) -> Route? { root.all.first { $0.path == path } }

    /// What an operator gets when nothing is configured: every alert grouped and kept, nothing sent.
    public static let empty = try! RoutingConfig.parse(yaml: "route:\n  receiver: none\nreceivers:\n  - name: none\n")

    /// Parses and validates; errors name the line and the node (`line 12: route.routes[0].group_wait: …`).
    /// Secrets referenced with `*_env` are looked up in `environment`.
    public static func parse(yaml: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(RoutingConfigError) -> RoutingConfig {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else { throw RoutingConfigError("the configuration is empty") }
            node = composed
        } catch let error as RoutingConfigError {
            throw error
        } catch {
            throw RoutingConfigError("not valid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
        guard node.mapping != nil else { throw ConfigNodes.at(node, "", "expected a mapping with `route` and `receivers`") }
        let top = try ConfigNodes.mapping(node, "", allowed: ["route", "receivers", "inhibit_rules"])
        var receivers: [ReceiverConfig] = []
        for (index, item) in (top["receivers"]?.sequence ?? []).enumerated() {
            let receiver = try ReceiverConfig.parse(item, path: "receivers[\(index)]", environment: environment)
            if receivers.contains(where: { $0.name == receiver.name }) {
                throw ConfigNodes.at(item, "receivers[\(index)]", "duplicate receiver \"\(receiver.name)\"")
            }
            receivers.append(receiver)
        }
        var inhibitRules: [InhibitRule] = []
        for (index, item) in (top["inhibit_rules"]?.sequence ?? []).enumerated() {
            inhibitRules.append(try InhibitRule.parse(item, path: "inhibit_rules[\(index)]"))
        }
        guard let routeNode = top["route"] else { throw RoutingConfigError("`route` is required") }
        let defaults = Route(
            receiver: "", matchers: [], continueMatching: false, groupBy: defaultGroupBy, groupWait: .seconds(30),
            groupInterval: .seconds(300), repeatInterval: .seconds(4 * 3600), sendResolved: true, ackTimeout: nil,
            routes: [], path: "route")
        let root = try route(routeNode, inheriting: defaults, path: "route", receivers: receivers.map(\.name), isRoot: true)
        return RoutingConfig(root: root, receivers: receivers, inhibitRules: inhibitRules)
    }

    private static func route(_ node: Node, inheriting parent: Route, path: String, receivers: [String], isRoot: Bool) throws(RoutingConfigError) -> Route {
        let mapping = try ConfigNodes.mapping(
            node, path,
            allowed: [
                "receiver", "matchers", "continue", "group_by", "group_wait", "group_interval", "repeat_interval", "send_resolved", "ack_timeout", "routes",
            ])
        var route = parent
        route.path = path
        route.routes = []
        route.continueMatching = false
        if let receiver = mapping["receiver"] {
            guard let name = receiver.string, receivers.contains(name) else {
                throw ConfigNodes.at(
                    receiver, "\(path).receiver", "unknown receiver \"\(receiver.string ?? "")\"; declared: \(receivers.joined(separator: ", "))")
            }
            route.receiver = name
        } else if isRoot {
            throw ConfigNodes.at(node, path, "the root route needs a `receiver`")
        }
        if isRoot, mapping["matchers"] != nil { throw ConfigNodes.at(node, path, "the root route matches everything; it takes no `matchers`") }
        route.matchers = try ConfigNodes.matchers(mapping["matchers"], "\(path).matchers")
        if let value = mapping["continue"] {
            route.continueMatching = try ConfigNodes.bool(value, "\(path).continue")
            if isRoot && route.continueMatching { throw ConfigNodes.at(value, "\(path).continue", "the root route cannot continue") }
        }
        if let value = mapping["group_by"] { route.groupBy = try ConfigNodes.labelNames(value, "\(path).group_by", allowEllipsis: true) }
        if let value = mapping["send_resolved"] { route.sendResolved = try ConfigNodes.bool(value, "\(path).send_resolved") }
        if let value = mapping["group_wait"] { route.groupWait = try ConfigNodes.duration(value, "\(path).group_wait") }
        if let value = mapping["group_interval"] { route.groupInterval = try positive(value, "\(path).group_interval") }
        if let value = mapping["repeat_interval"] {
            route.repeatInterval = value.string == "never" ? nil : try positive(value, "\(path).repeat_interval")
        }
        if let value = mapping["ack_timeout"] { route.ackTimeout = try positive(value, "\(path).ack_timeout") }
        if let list = mapping["routes"] {
            guard let children = list.sequence else { throw ConfigNodes.at(list, "\(path).routes", "expected a list of routes") }
            for (index, child) in children.enumerated() {
                route.routes.append(try Self.route(child, inheriting: route, path: "\(path).routes[\(index)]", receivers: receivers, isRoot: false))
            }
        }
        return route
    }

    private static func positive(_ node: Node, _ path: String) throws(RoutingConfigError) -> Duration {
        let duration = try ConfigNodes.duration(node, path)
        if duration <= .zero { throw ConfigNodes.at(node, path, "must be positive") }
        return duration
    }
}
