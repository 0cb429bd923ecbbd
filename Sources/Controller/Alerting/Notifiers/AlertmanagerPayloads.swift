import ControllerModel
import Foundation
import SplitPlaneProtocol

/// Alertmanager's wire formats: the webhook receiver payload (version 4) for tools that consume
/// Alertmanager webhooks, and the API v2 alert list for forwarding to an existing Alertmanager.
public enum AlertmanagerPayloads {
    /// Go's zero time, which Alertmanager writes as `endsAt` of a firing alert.
    static let zeroTime = "0001-01-01T00:00:00Z"

    public static func webhook(_ content: NotificationContent, maxAlerts: Int) -> JSONValue {
        let alerts = maxAlerts > 0 ? Array(content.alerts.prefix(maxAlerts)) : content.alerts
        return [
            "version": "4",
            "groupKey": .string(content.groupKey),
            "truncatedAlerts": .number(Double(content.alerts.count - alerts.count)),
            "status": .string(content.status.rawValue),
            "receiver": .string(content.receiver),
            "groupLabels": strings(content.groupLabels),
            "commonLabels": strings(content.commonLabels),
            "commonAnnotations": strings(content.commonAnnotations),
            "externalURL": "",
            "alerts": .array(
                alerts.map { alert in
                    let firing = content.firing.contains { $0.key == alert.key }
                    return [
                        "status": firing ? "firing" : "resolved",
                        "labels": strings(alert.routingLabels),
                        "annotations": strings(alert.annotations),
                        "startsAt": .string(Timestamp.format(alert.startsAt)),
                        "endsAt": firing ? .string(zeroTime) : .string(Timestamp.format(alert.endsAt ?? content.createdAt)),
                        "generatorURL": "",
                        "fingerprint": .string(alert.fingerprint),
                    ]
                }),
        ]
    }

    /// `POST /api/v2/alerts` body. A firing alert stays valid until just after this group's next
    /// repeat would refresh it; with `repeat_interval: never` the Alertmanager's `resolve_timeout` applies.
    public static func forward(_ content: NotificationContent) -> JSONValue {
        .array(
            content.alerts.map { alert in
                var object: [String: JSONValue] = [
                    "labels": strings(alert.routingLabels),
                    "annotations": strings(alert.annotations),
                    "startsAt": .string(Timestamp.format(alert.startsAt)),
                    "generatorURL": "",
                ]
                if content.firing.contains(where: { $0.key == alert.key }) {
                    if let repeatInterval = content.repeatIntervalSeconds {
                        object["endsAt"] = .string(Timestamp.format(content.createdAt.addingTimeInterval(repeatInterval + 2 * content.groupIntervalSeconds)))
                    }
                } else {
                    object["endsAt"] = .string(Timestamp.format(alert.endsAt ?? content.createdAt))
                }
                return .object(object)
            })
    }

    static func strings(_ map: [String: String]) -> JSONValue { .object(map.mapValues { .string($0) }) }
}
