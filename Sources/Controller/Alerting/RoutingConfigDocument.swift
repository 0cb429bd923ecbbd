import AlertRouting
import Foundation
import SplitPlaneProtocol

/// The effective routing configuration as the API shows it: every inherited value resolved, and
/// receiver URLs shown only as where they come from.
enum RoutingConfigDocument {
    static func render(_ loaded: RoutingConfigSource.Loaded) -> JSONValue {
        let config = loaded.config
        return [
            "apiVersion": .string(APIVersion.operatorV1),
            "kind": "RoutingConfig",
            "source": loaded.path.map { .string($0) } ?? "built-in (no --routing-config): alerts are grouped, nothing is sent",
            "loadedAt": .string(Timestamp.format(loaded.loadedAt)),
            "route": route(config.root),
            "receivers": .array(
                config.receivers.map { receiver in
                    [
                        "name": .string(receiver.name),
                        "integrations": .array(
                            receiver.integrations.map { integration in
                                var object: [String: JSONValue] = [
                                    "id": .string(integration.id), "kind": .string(integration.kind.rawValue),
                                    "url": .string(integration.url.redacted),
                                ]
                                if let channel = integration.channel { object["channel"] = .string(channel) }
                                return .object(object)
                            }),
                    ]
                }),
            "inhibit_rules": .array(
                config.inhibitRules.map { rule in
                    [
                        "source_matchers": .array(rule.sourceMatchers.map { .string($0.description) }),
                        "target_matchers": .array(rule.targetMatchers.map { .string($0.description) }),
                        "equal": .array(rule.equal.map { .string($0) }),
                    ]
                }),
        ]
    }

    private static func route(_ route: RoutingConfig.Route) -> JSONValue {
        var object: [String: JSONValue] = [
            "path": .string(route.path),
            "receiver": .string(route.receiver),
            "matchers": .array(route.matchers.map { .string($0.description) }),
            "continue": .bool(route.continueMatching),
            "group_by": .array(route.groupBy.map { .string($0) }),
            "group_wait": .string(PrometheusDuration.format(route.groupWait)),
            "group_interval": .string(PrometheusDuration.format(route.groupInterval)),
            "repeat_interval": .string(route.repeatInterval.map(PrometheusDuration.format) ?? "never"),
            "send_resolved": .bool(route.sendResolved),
            "routes": .array(route.routes.map(Self.route)),
        ]
        if let ackTimeout = route.ackTimeout { object["ack_timeout"] = .string(PrometheusDuration.format(ackTimeout)) }
        return .object(object)
    }
}
