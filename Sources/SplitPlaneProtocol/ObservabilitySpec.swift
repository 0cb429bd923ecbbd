import Foundation

/// The environment's own observability stack (`observability` on the environment): VictoriaMetrics,
/// VictoriaLogs and Grafana installed by the agent in its namespace. Off unless `enabled`. Support
/// access is deliberately not a field: only the customer grants it, on their side (the agent's Helm
/// values), so nothing the controller sends can turn it on.
public struct ObservabilitySpec: Codable, Equatable, Hashable, Sendable, ClosedDecodable {
    public static let defaultMetricsRetention = "30d"
    public static let defaultLogsRetention = "7d"
    public static let defaultStorage = "20Gi"

    public var enabled: Bool
    /// VictoriaMetrics `-retentionPeriod`: a number and a unit, `h`, `d`, `w` or `y` (default `30d`).
    public var metricsRetention: String?
    /// VictoriaLogs `-retentionPeriod`, same form (default `7d`).
    public var logsRetention: String?
    /// Size of VictoriaMetrics' PersistentVolumeClaim, a Kubernetes quantity in Mi, Gi or Ti (default `20Gi`).
    public var metricsStorage: String?
    /// Size of VictoriaLogs' PersistentVolumeClaim (default `20Gi`).
    public var logsStorage: String?
    /// StorageClass of both claims; the cluster's default when absent.
    public var storageClass: String?
    /// The OIDC login in front of Grafana, vmui and the VictoriaLogs UI.
    public var login: ObservabilityLogin?

    public init(
        enabled: Bool, metricsRetention: String? = nil, logsRetention: String? = nil, metricsStorage: String? = nil,
        logsStorage: String? = nil, storageClass: String? = nil, login: ObservabilityLogin? = nil
    ) {
        self.enabled = enabled
        self.metricsRetention = metricsRetention
        self.logsRetention = logsRetention
        self.metricsStorage = metricsStorage
        self.logsStorage = logsStorage
        self.storageClass = storageClass
        self.login = login
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, metricsRetention, logsRetention, metricsStorage, logsStorage, storageClass, login
    }

    public init(from decoder: any Decoder) throws {
        try Self.refuseSupportAccess(decoder)
        try StrictJSON.refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decode(Bool.self, forKey: .enabled)
        metricsRetention = try container.decodeIfPresent(String.self, forKey: .metricsRetention)
        logsRetention = try container.decodeIfPresent(String.self, forKey: .logsRetention)
        metricsStorage = try container.decodeIfPresent(String.self, forKey: .metricsStorage)
        logsStorage = try container.decodeIfPresent(String.self, forKey: .logsStorage)
        storageClass = try container.decodeIfPresent(String.self, forKey: .storageClass)
        login = try container.decodeIfPresent(ObservabilityLogin.self, forKey: .login)
    }

    /// A spec naming `supportAccess` is refused with the reason, not as a mere unknown field.
    static func refuseSupportAccess(_ decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.allKeys.contains(where: { $0.stringValue == "supportAccess" }) {
            throw SupportAccessRefused()
        }
    }

    public var effectiveMetricsRetention: String { metricsRetention ?? Self.defaultMetricsRetention }
    public var effectiveLogsRetention: String { logsRetention ?? Self.defaultLogsRetention }
    public var effectiveMetricsStorage: String { metricsStorage ?? Self.defaultStorage }
    public var effectiveLogsStorage: String { logsStorage ?? Self.defaultStorage }
    public var effectiveLogin: ObservabilityLogin { login ?? ObservabilityLogin() }

    public func validate(field: String = "observability") throws(ValidationError) {
        for (name, value) in [("metricsRetention", metricsRetention), ("logsRetention", logsRetention)] {
            if let value, !Self.isRetention(value) {
                throw ValidationError(field: "\(field).\(name)", reason: "\"\(value)\" is not a retention period: a whole number and h, d, w or y, e.g. 30d")
            }
        }
        for (name, value) in [("metricsStorage", metricsStorage), ("logsStorage", logsStorage)] {
            if let value, !Self.isQuantity(value) {
                throw ValidationError(field: "\(field).\(name)", reason: "\"\(value)\" is not a storage size: a whole number and Mi, Gi or Ti, e.g. 20Gi")
            }
        }
        if let storageClass { try ResourceName.validate(storageClass, field: "\(field).storageClass") }
        try effectiveLogin.validate(field: "\(field).login")
    }

    static func isRetention(_ text: String) -> Bool {
        guard let unit = text.last, "hdwy".contains(unit) else { return false }
        let digits = text.dropLast()
        return (1...5).contains(digits.count) && digits.allSatisfy(\.isASCIIDigit) && digits.first != "0"
    }

    static func isQuantity(_ text: String) -> Bool {
        guard text.count > 2, ["Mi", "Gi", "Ti"].contains(String(text.suffix(2))) else { return false }
        let digits = text.dropLast(2)
        return (1...6).contains(digits.count) && digits.allSatisfy(\.isASCIIDigit) && digits.first != "0"
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Thrown for any attempt to switch support access on through the controller.
public struct SupportAccessRefused: Error, CustomStringConvertible {
    public static let reason =
        "support access cannot be set through the controller; only the customer grants it, in the agent's Helm values (supportAccess.enabled and supportAccess.until)"
    public init() {}
    public var description: String { Self.reason }
}

/// Generic OAuth / OIDC login of Grafana and the OIDC proxy. Auth0 by default: the endpoints are
/// derived from `issuer` (`authorize`, `oauth/token`, `userinfo`). The client secret is never here:
/// it is read from the Secret `clientSecretName` (keys `client-secret` and `cookie-secret`), which
/// the customer or Qbeast creates in the namespace.
public struct ObservabilityLogin: Codable, Equatable, Hashable, Sendable, ClosedDecodable {
    public static let defaultIssuer = "https://qbeast.eu.auth0.com/"
    public static let defaultClientID = "qbeast-observability"
    public static let defaultClientSecretName = "qbeast-observability-oauth"

    public var issuer: String?
    public var clientID: String?
    public var clientSecretName: String?
    /// Only these e-mail domains may log in (default `qbeast.io`).
    public var allowedDomains: [String]?

    public init(issuer: String? = nil, clientID: String? = nil, clientSecretName: String? = nil, allowedDomains: [String]? = nil) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecretName = clientSecretName
        self.allowedDomains = allowedDomains
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case issuer, clientID, clientSecretName, allowedDomains }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try container.decodeIfPresent(String.self, forKey: .issuer)
        clientID = try container.decodeIfPresent(String.self, forKey: .clientID)
        clientSecretName = try container.decodeIfPresent(String.self, forKey: .clientSecretName)
        allowedDomains = try container.decodeIfPresent([String].self, forKey: .allowedDomains)
    }

    /// The issuer with exactly one trailing slash, so endpoints append cleanly.
    public var effectiveIssuer: String {
        let issuer = self.issuer ?? Self.defaultIssuer
        return issuer.hasSuffix("/") ? issuer : issuer + "/"
    }
    public var effectiveClientID: String { clientID ?? Self.defaultClientID }
    public var effectiveClientSecretName: String { clientSecretName ?? Self.defaultClientSecretName }
    public var effectiveAllowedDomains: [String] { allowedDomains ?? ["qbeast.io"] }
    public var authURL: String { effectiveIssuer + "authorize" }
    public var tokenURL: String { effectiveIssuer + "oauth/token" }
    public var userInfoURL: String { effectiveIssuer + "userinfo" }

    func validate(field: String) throws(ValidationError) {
        let issuer = effectiveIssuer
        guard issuer.hasPrefix("https://"), let url = URL(string: issuer), url.host?.isEmpty == false, url.query == nil else {
            throw ValidationError(field: "\(field).issuer", reason: "\"\(issuer)\" is not an https:// issuer URL")
        }
        let clientID = effectiveClientID
        if clientID.isEmpty || clientID.count > 128 || clientID.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\\" }) {
            throw ValidationError(field: "\(field).clientID", reason: "must be 1 to 128 characters without spaces or quotes")
        }
        try ResourceName.validate(effectiveClientSecretName, field: "\(field).clientSecretName")
        if effectiveAllowedDomains.isEmpty {
            throw ValidationError(field: "\(field).allowedDomains", reason: "at least one e-mail domain must be allowed")
        }
        for (index, domain) in effectiveAllowedDomains.enumerated() {
            let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count >= 2, labels.allSatisfy({ (try? ResourceName.validate(String($0), field: "")) != nil }) else {
                throw ValidationError(field: "\(field).allowedDomains[\(index)]", reason: "\"\(domain)\" is not a lowercase DNS domain")
            }
        }
    }
}

/// Qbeast asking the customer for support access (`POST …/support-access-request`). It travels to
/// the agent inside the observability component, which shows it to the customer; it grants nothing.
public struct SupportAccessRequest: Codable, Equatable, Hashable, Sendable {
    public var reason: String
    public var requestedBy: String
    public var requestedAt: Date

    public init(reason: String, requestedBy: String, requestedAt: Date) {
        self.reason = reason
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
    }
}

/// Body of `POST …/environments/{e}/support-access-request`.
public struct SupportAccessRequestBody: Codable, Equatable, Sendable, ClosedDecodable {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    enum CodingKeys: String, CodingKey, CaseIterable { case reason }

    public init(from decoder: any Decoder) throws {
        try ObservabilitySpec.refuseSupportAccessFields(decoder)
        try StrictJSON.refuseUnknownKeys(decoder, CodingKeys.self)
        reason = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .reason)
    }

    public static let maxReason = 500

    public func validate() throws(ValidationError) {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { throw ValidationError(field: "reason", reason: "must say why access is needed") }
        if reason.count > Self.maxReason { throw ValidationError(field: "reason", reason: "at most \(Self.maxReason) characters") }
        if reason.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) }) {
            throw ValidationError(field: "reason", reason: "must be one line without control characters")
        }
    }
}

extension ObservabilitySpec {
    /// A request that tries to grant rather than ask (`enabled`, `until`, `supportAccess`) is refused with the reason.
    static func refuseSupportAccessFields(_ decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.allKeys.contains(where: { ["supportAccess", "enabled", "until", "grant"].contains($0.stringValue) }) {
            throw SupportAccessRefused()
        }
    }
}
