import Foundation
import Yams

/// A named receiver and its integrations, in Alertmanager's shape (`slack_configs`, `webhook_configs`)
/// plus `alertmanager_configs` for forwarding to an existing Alertmanager. A receiver without
/// integrations discards what it is given, as Alertmanager's do.
public struct ReceiverConfig: Sendable, Equatable {
    public var name: String
    public var integrations: [Integration]

    public struct Integration: Sendable, Equatable {
        public enum Kind: String, Sendable { case slack, webhook, alertmanager }
        public var kind: Kind
        /// `receiver/slack[0]`: names the integration in notification records and metrics.
        public var id: String
        public var url: SecretURL
        /// Slack: the channel the webhook posts to; messages to one channel are spaced one second apart.
        /// With an app token, the channel's ID (`C…`), as `conversations.history` needs it.
        public var channel: String?
        /// Webhook: most alerts in one payload (0 = all), as Alertmanager's `max_alerts`.
        public var maxAlerts: Int
        /// Slack: a bot token posts through the Web API (`url` is then `chat.postMessage`) instead of
        /// an incoming webhook, which lets a replica ask the channel whether a message whose answer
        /// it never got was posted.
        public var appToken: SecretToken? = nil
    }

    static func parse(_ node: Node, path: String, environment: [String: String]) throws(RoutingConfigError) -> ReceiverConfig {
        let mapping = try ConfigNodes.mapping(node, path, allowed: ["name", "slack_configs", "webhook_configs", "alertmanager_configs"])
        guard let nameNode = mapping["name"] else { throw ConfigNodes.at(node, path, "a receiver needs a `name`") }
        let name = try ConfigNodes.string(nameNode, "\(path).name")
        var integrations: [Integration] = []
        for kind in [Integration.Kind.slack, .webhook, .alertmanager] {
            let key = "\(kind.rawValue)_configs"
            guard let list = mapping[key] else { continue }
            guard let items = list.sequence else { throw ConfigNodes.at(list, "\(path).\(key)", "expected a list") }
            for (index, item) in items.enumerated() {
                integrations.append(
                    try integration(
                        kind, item, path: "\(path).\(key)[\(index)]", id: "\(name)/\(kind.rawValue)[\(index)]",
                        environment: environment))
            }
        }
        return ReceiverConfig(name: name, integrations: integrations)
    }

    private static func integration(
        _ kind: Integration.Kind, _ node: Node, path: String, id: String,
        environment: [String: String]
    ) throws(RoutingConfigError) -> Integration {
        switch kind {
        case .slack:
            // The incoming-webhook URL and the app token are credentials: only from a file or the
            // environment, never inline.
            let mapping = try ConfigNodes.mapping(
                node, path,
                allowed: [
                    "webhook_url_file", "webhook_url_env", "app_token_file", "app_token_env",
                    "app_url", "channel",
                ])
            let channel = try mapping["channel"].map { n throws(RoutingConfigError) in try ConfigNodes.string(n, "\(path).channel") }
            let webhook = mapping["webhook_url_file"] != nil || mapping["webhook_url_env"] != nil
            let app = mapping["app_token_file"] != nil || mapping["app_token_env"] != nil
            if webhook && app {
                throw ConfigNodes.at(
                    node, path,
                    "set either an incoming webhook (`webhook_url_file`/`webhook_url_env`) or an app token (`app_token_file`/`app_token_env`), not both")
            }
            guard app else {
                if let appURL = mapping["app_url"] {
                    throw ConfigNodes.at(appURL, "\(path).app_url", "`app_url` needs an app token (`app_token_file` or `app_token_env`)")
                }
                let url = try secretURL(mapping, path: path, fileKey: "webhook_url_file", envKey: "webhook_url_env", inlineKey: nil, environment: environment)
                return Integration(kind: kind, id: id, url: url, channel: channel, maxAlerts: 0)
            }
            guard let channel, SlackChannelID.isValid(channel) else {
                throw ConfigNodes.at(
                    mapping["channel"] ?? node, "\(path).channel",
                    "with an app token, `channel` must be the channel's ID (such as C0123ABCDEF; in Slack: channel details → About), not its name")
            }
            let token = try secretToken(mapping, path: path, fileKey: "app_token_file", envKey: "app_token_env", environment: environment)
            var url = SecretURL(url: URL(string: "https://slack.com/api/chat.postMessage")!, redacted: "https://slack.com/api/chat.postMessage")
            if let node = mapping["app_url"] {
                let text = try ConfigNodes.string(node, "\(path).app_url")
                guard let parsed = URL(string: text), let scheme = parsed.scheme, let host = parsed.host, parsed.lastPathComponent == "chat.postMessage",
                    scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
                else {
                    // The bot token travels with every request: never in clear text off this machine.
                    throw ConfigNodes.at(node, "\(path).app_url", "expected the https URL of Slack's chat.postMessage method (http only to loopback)")
                }
                url = SecretURL(url: parsed, redacted: Self.withoutCredentials(parsed))
            }
            return Integration(kind: kind, id: id, url: url, channel: channel, maxAlerts: 0, appToken: token)
        case .webhook, .alertmanager:
            var allowed: Set<String> = ["url", "url_file"]
            if kind == .webhook { allowed.insert("max_alerts") }
            let mapping = try ConfigNodes.mapping(node, path, allowed: allowed)
            let url = try secretURL(mapping, path: path, fileKey: "url_file", envKey: nil, inlineKey: "url", environment: environment)
            var maxAlerts = 0
            if let value = mapping["max_alerts"] {
                guard let number = value.int, number >= 0 else { throw ConfigNodes.at(value, "\(path).max_alerts", "expected a number ≥ 0") }
                maxAlerts = number
            }
            return Integration(kind: kind, id: id, url: url, channel: nil, maxAlerts: maxAlerts)
        }
    }

    private static func secretToken(
        _ mapping: Node.Mapping, path: String, fileKey: String, envKey: String,
        environment: [String: String]
    ) throws(RoutingConfigError) -> SecretToken {
        let (key, node, source, text) = try secretText(mapping, path: path, fileKey: fileKey, envKey: envKey, inlineKey: nil, environment: environment)
        // Said without the value: a token is one word.
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            throw ConfigNodes.at(node, "\(path).\(key)", "the token from \(source) is empty or contains whitespace")
        }
        return SecretToken(value: text, redacted: "<\(key): \(source)>")
    }

    private static func secretURL(
        _ mapping: Node.Mapping, path: String, fileKey: String, envKey: String?, inlineKey: String?,
        environment: [String: String]
    ) throws(RoutingConfigError) -> SecretURL {
        let (key, node, source, text) = try secretText(
            mapping, path: path, fileKey: fileKey, envKey: envKey, inlineKey: inlineKey,
            environment: environment)
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            // The value may be a credential: say where it came from, never what it is.
            throw ConfigNodes.at(node, "\(path).\(key)", "the URL from \(key == inlineKey ? "this field" : source) is not an http(s) URL")
        }
        return SecretURL(url: url, redacted: key == inlineKey ? Self.withoutCredentials(url) : "<\(key): \(source)>")
    }

    /// Exactly one of the keys, and the text it gives: a file's contents, an environment variable's
    /// value (both trimmed), or the field itself. Returns the key, its node, the source and the text.
    private static func secretText(
        _ mapping: Node.Mapping, path: String, fileKey: String, envKey: String?, inlineKey: String?,
        environment: [String: String]
    ) throws(RoutingConfigError) -> (String, Node, String, String) {
        let keys = [inlineKey, fileKey, envKey].compactMap { $0 }
        let given = keys.filter { mapping[$0] != nil }
        guard given.count == 1, let key = given.first, let node = mapping[key] else {
            throw RoutingConfigError("\(path): set exactly one of \(keys.map { "`\($0)`" }.joined(separator: ", "))")
        }
        let source = try ConfigNodes.string(node, "\(path).\(key)")
        if key == fileKey {
            guard let contents = try? String(contentsOfFile: source, encoding: .utf8) else {
                throw ConfigNodes.at(node, "\(path).\(key)", "cannot read \(source)")
            }
            return (key, node, source, contents.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if key == envKey {
            guard let value = environment[source], !value.isEmpty else {
                throw ConfigNodes.at(node, "\(path).\(key)", "environment variable \(source) is not set")
            }
            return (key, node, source, value.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (key, node, source, source)
    }
}

extension ReceiverConfig {
    /// An inline URL as shown: user, password and query (where tokens tend to hide) left out.
    static func withoutCredentials(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        components.user = nil
        components.password = nil
        if components.query != nil { components.query = "…" }
        return components.string ?? "<url>"
    }
}

/// A bearer token: printing it shows where it came from, never the token.
public struct SecretToken: Sendable, Equatable, CustomStringConvertible {
    public let value: String
    public let redacted: String
    public var description: String { redacted }
}

/// Slack conversation IDs: `C…` (channels), `G…` (private, older), `D…` (direct messages).
enum SlackChannelID {
    static func isValid(_ text: String) -> Bool {
        guard let first = text.first, "CGD".contains(first), (9...20).contains(text.count) else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }
}

/// A URL that may embed a credential (Slack's webhook URLs do): printing it shows where it came from.
public struct SecretURL: Sendable, Equatable, CustomStringConvertible {
    public let url: URL
    public let redacted: String
    public var description: String { redacted }
}
