import AsyncHTTPClient
import Foundation
import ServiceSupport

/// The customer's corporate HTTPS proxy (`HTTPS_PROXY`, `NO_PROXY`). The agent's mutual-TLS connection
/// to the controller is tunnelled through it with HTTP `CONNECT` (AsyncHTTPClient's proxy support):
/// the proxy sees the controller's host and port, never what is inside the tunnel. Only traffic to the
/// controller (long poll, status, alerts, enrollment, renewal) uses it; the metrics store and the
/// Kubernetes API stay direct.
public struct OutboundProxy: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    /// `NO_PROXY` entries: a host, `.domain` / `domain` (and its subdomains), or `*` (everything).
    public var noProxy: [String] = []

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, noProxy: [String] = []) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.noProxy = noProxy
    }

    /// Parses `http://[user:password@]host[:port]` (the form `HTTPS_PROXY` takes; port 3128 when absent).
    /// The password is never part of an error.
    public static func parse(_ text: String, setting: String) throws(ConfigurationError) -> OutboundProxy {
        let value = text.trimmingCharacters(in: .whitespaces)
        let withScheme = value.contains("://") ? value : "http://" + value
        guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty else {
            throw ConfigurationError(setting: setting, reason: "is not a proxy URL such as http://proxy.example.com:3128")
        }
        guard url.scheme == "http" else {
            throw ConfigurationError(
                setting: setting, reason: "scheme \"\(url.scheme ?? "")\" is not supported: the agent speaks HTTP CONNECT to the proxy (http://)")
        }
        guard url.path.isEmpty || url.path == "/", url.query == nil else {
            throw ConfigurationError(setting: setting, reason: "must be scheme, optional user:password@, host and port only")
        }
        if let port = url.port, !(1...65535).contains(port) {
            throw ConfigurationError(setting: setting, reason: "port \(port) is out of range")
        }
        if url.user != nil, url.password == nil {
            throw ConfigurationError(setting: setting, reason: "proxy credentials must be user:password")
        }
        return OutboundProxy(host: host, port: url.port ?? 3128, username: url.user, password: url.password)
    }

    /// The proxy from `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`/`no_proxy` (nil when none is set).
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> OutboundProxy? {
        let (name, value) = ["HTTPS_PROXY", "https_proxy"].lazy.compactMap { key in environment[key].map { (key, $0) } }.first ?? ("", "")
        guard !value.isEmpty else { return nil }
        var proxy = try parse(value, setting: name)
        let noProxy = environment["NO_PROXY"] ?? environment["no_proxy"] ?? ""
        proxy.noProxy = noProxy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        return proxy
    }

    /// Whether a connection to `host` goes through the proxy (false when `NO_PROXY` names it).
    public func applies(to host: String) -> Bool {
        let host = host.lowercased()
        for entry in noProxy {
            if entry == "*" { return false }
            let domain = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            // A port in the entry (host:port) is not compared; the host decides.
            let name = domain.split(separator: ":").first.map(String.init) ?? domain
            if host == name || host.hasSuffix("." + name) { return false }
        }
        return true
    }

    /// AsyncHTTPClient's form, for a client whose requests go to `hosts` (nil when `NO_PROXY` names them all).
    public func configuration(for hosts: [String]) -> HTTPClient.Configuration.Proxy? {
        guard hosts.contains(where: applies) else { return nil }
        let authorization = username.map { HTTPClient.Authorization.basic(username: $0, password: password ?? "") }
        return .server(host: host, port: port, authorization: authorization)
    }
}

extension OutboundProxy: CustomStringConvertible {
    /// For logs: the credentials never appear.
    public var description: String { "http://\(username == nil ? "" : "***@")\(host):\(port)" }
}
