import ControllerModel
import Foundation
import SplitPlaneProtocol

/// A group notification as a Slack Block Kit message for an incoming webhook: severity, tenant,
/// environment, workspace, each alert with its summary, firing/resolved counts, since when, who
/// acknowledged, and an Acknowledge button that comes back through the signed interactions endpoint.
/// Limits follow Slack's: header 150 characters, section text 3000, at most 10 fields and 50 blocks.
public enum SlackMessage {
    public static let acknowledgeActionID = "qbeast_ack"
    static let alertsShown = 10

    public static func render(_ content: NotificationContent) -> JSONValue {
        let labels = content.commonLabels
        let severity = (content.severity ?? "none").uppercased()
        let alertnames = Array(Set(content.alerts.compactMap { $0.labels["alertname"] })).sorted()
        let place = [labels["tenant"], labels["environment"]].compactMap { $0 }.joined(separator: "/")
        let title =
            content.status == .firing
            ? "\(icon(content.severity)) \(severity): \(alertnames.joined(separator: ", "))"
            : "✅ RESOLVED: \(alertnames.joined(separator: ", "))"
        var blocks: [JSONValue] = [
            ["type": "header", "text": ["type": "plain_text", "text": .string(truncate(place.isEmpty ? title : "\(title) — \(place)", 150)), "emoji": true]],
            ["type": "section", "fields": .array(fields(content, labels: labels))],
        ]
        var lines: [String] = content.firing.prefix(alertsShown).map { line($0, firing: true) }
        lines += content.resolved.prefix(max(0, alertsShown - lines.count)).map { line($0, firing: false) }
        let hidden = content.alerts.count - lines.count
        if hidden > 0 { lines.append("_… and \(hidden) more_") }
        blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": .string(truncate(lines.joined(separator: "\n"), 3000))]])
        blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": .string(truncate(footer(content), 3000))]]])
        if content.status == .firing {
            blocks.append([
                "type": "actions", "block_id": .string("qbeast-group-\(content.groupID)"),
                "elements": [
                    [
                        "type": "button", "action_id": .string(acknowledgeActionID), "style": "primary", "value": .string(content.groupID),
                        "text": ["type": "plain_text", "text": "Acknowledge", "emoji": false],
                    ]
                ],
            ])
        }
        let counts = content.status == .firing ? "[FIRING:\(content.firing.count)]" : "[RESOLVED]"
        return ["text": .string(truncate("\(counts) \(severity) \(alertnames.joined(separator: ", ")) \(place)", 3000)), "blocks": .array(blocks)]
    }

    private static func fields(_ content: NotificationContent, labels: [String: String]) -> [JSONValue] {
        let workspaces = Set(content.alerts.map(\.workspace)).sorted()
        let since = (content.firing.isEmpty ? content.resolved : content.firing).map(\.startsAt).min() ?? content.createdAt
        var fields: [(String, String)] = [
            ("Severity", escape(content.severity ?? "none")),
            ("Tenant", escape(labels["tenant"] ?? Set(content.alerts.map(\.tenant)).sorted().joined(separator: ", "))),
            ("Environment", escape(labels["environment"] ?? Set(content.alerts.map(\.environment)).sorted().joined(separator: ", "))),
            ("Workspace", escape(workspaces.joined(separator: ", "))),
            ("Alerts", "\(content.firing.count) firing, \(content.resolved.count) resolved"),
            ("Since", date(since)),
        ]
        if let ended = content.resolved.compactMap(\.endsAt).max(), content.status == .resolved { fields.append(("Resolved", date(ended))) }
        return fields.prefix(10).map { name, value in ["type": "mrkdwn", "text": .string(truncate("*\(name)*\n\(value)", 2000))] }
    }

    private static func line(_ alert: StoredAlert, firing: Bool) -> String {
        let name = escape(alert.labels["alertname"] ?? "alert")
        let summary = alert.annotations["summary"] ?? alert.annotations["description"] ?? alert.annotations["message"]
        let extra = alert.labels.filter { !["alertname", "severity"].contains($0.key) }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var text = "\(firing ? "🔥" : "✅") *\(name)*"
        if !extra.isEmpty { text += " `\(escape(extra))`" }
        if let summary { text += "\n>\(escape(summary).replacingOccurrences(of: "\n", with: "\n>"))" }
        return text
    }

    private static func footer(_ content: NotificationContent) -> String {
        var parts: [String] = []
        if let ack = content.acknowledgement {
            let comment = ack.comment.map { ": “\(escape($0))”" } ?? ""
            parts.append("Acknowledged by *\(escape(ack.by))* via \(ack.via) \(date(ack.at))\(comment)")
            if content.reason == .ackTimeout { parts.append("still firing after the acknowledgement timeout") }
        } else if content.status == .firing {
            parts.append(content.repeatIntervalSeconds.map { "Repeats every \(duration($0)) until acknowledged" } ?? "Not acknowledged")
        }
        if content.reason == .repeated { parts.append("repeat notification") }
        parts.append("group `\(content.groupID)` · route \(escape(content.route))")
        return parts.joined(separator: " · ")
    }

    static func icon(_ severity: String?) -> String {
        switch severity {
        case "critical", "error": "🔴"
        case "warning": "🟠"
        case "info": "🔵"
        default: "⚪️"
        }
    }

    /// Slack's date formatting token: each reader sees their own time zone; the fallback is UTC.
    static func date(_ date: Date) -> String {
        "<!date^\(Int(date.timeIntervalSince1970))^{date_short_pretty} {time}|\(Timestamp.format(date))>"
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total % 3600 == 0 { return "\(total / 3600)h" }
        if total % 60 == 0 { return "\(total / 60)m" }
        return "\(total)s"
    }

    /// Slack's mrkdwn reserves `&`, `<` and `>`.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func truncate(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
