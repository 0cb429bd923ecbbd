import Foundation

/// Typed reading of layered settings by camelCase key, each refusal naming the setting: what the
/// controller's and agent's configuration types share.
public struct SettingsReader {
    public let setting: (String) -> String?

    public init(setting: @escaping (String) -> String?) {
        self.setting = setting
    }

    public func required(_ key: String) throws(ConfigurationError) -> String {
        guard let value = setting(key) else {
            throw ConfigurationError(setting: key, reason: "required (flag --\(Self.kebab(key)) or \(LayeredConfiguration.environmentName(key)))")
        }
        return value
    }

    public func address(_ key: String, _ fallback: ListenAddress) throws(ConfigurationError) -> ListenAddress {
        guard let text = setting(key) else { return fallback }
        guard let address = ListenAddress(text) else { throw ConfigurationError(setting: key, reason: "\"\(text)\" is not host:port") }
        return address
    }

    public func duration(_ key: String, _ fallback: Duration, minimum: Duration = .zero) throws(ConfigurationError) -> Duration {
        guard let text = setting(key) else { return fallback }
        guard let duration = parseDuration(text), duration >= minimum else {
            throw ConfigurationError(setting: key, reason: "\"\(text)\" is not a duration" + (minimum > .zero ? " of at least \(Self.describe(minimum))" : ""))
        }
        return duration
    }

    public func integer(_ key: String, _ fallback: Int, minimum: Int) throws(ConfigurationError) -> Int {
        guard let text = setting(key) else { return fallback }
        guard let value = Int(text), value >= minimum else {
            throw ConfigurationError(setting: key, reason: "\"\(text)\" is not a whole number of at least \(minimum)")
        }
        return value
    }

    public func fileContents(_ path: String, _ key: String) throws(ConfigurationError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(setting: key, reason: "cannot read \(path)")
        }
        return text
    }

    public static func kebab(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result.append("-") }
            result.append(character.lowercased())
        }
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds % 60 == 0 && seconds >= 60 ? "\(seconds / 60)m" : "\(seconds)s"
    }
}
