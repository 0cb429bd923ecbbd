import Foundation
import SplitPlaneProtocol

/// The message a click on Acknowledge leaves in the channel: the original, its Acknowledge button
/// replaced by who acknowledged and when. Sent to the interaction's `response_url` with
/// `replace_original`, because Slack ignores the body of the answer to a button click.
public enum SlackAcknowledgedMessage {
    public static func replacing(_ original: JSONValue, by user: String, at time: Date) -> JSONValue {
        let blocks = (original["blocks"]?.arrayValue ?? []).filter { block in
            !(block["type"]?.stringValue == "actions" && block["block_id"]?.stringValue?.hasPrefix("qbeast-group-") == true)
        }
        let seconds = Int(time.timeIntervalSince1970)
        let iso = ISO8601DateFormatter().string(from: time)
        let note = "✅ Acknowledged by *\(SlackMessage.escape(user))* via Slack, <!date^\(seconds)^{date_short_pretty} {time}|\(iso)>"
        return [
            "replace_original": true,
            "text": .string(original["text"]?.stringValue ?? "Acknowledged by \(user)"),
            "blocks": .array(blocks + [["type": "context", "elements": [["type": "mrkdwn", "text": .string(note)]]]]),
        ]
    }

    /// Only Slack's own hooks take the update (and plain http to this machine, for the tests and the
    /// demo's stand-in): the URL comes from a signed payload, but it still must not send the
    /// controller anywhere else.
    public static func isSlackResponseURL(_ text: String) -> URL? {
        guard let url = URL(string: text), let host = url.host?.lowercased(), let scheme = url.scheme else { return nil }
        if scheme == "https", host == "hooks.slack.com" || host.hasSuffix(".slack.com") { return url }
        if scheme == "http", ["127.0.0.1", "localhost", "::1"].contains(host) { return url }
        return nil
    }
}
