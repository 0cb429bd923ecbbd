import Foundation
import Yams

/// Resolves each setting from, in order: a command-line flag, a `QBEAST_…` environment variable,
/// a key of the YAML configuration file, the default. One place, so every executable behaves alike.
public struct LayeredConfiguration: Sendable {
    private let file: [String: String]
    private let environment: [String: String]

    /// `fileValues` are the YAML file's top-level scalars, already flattened to strings.
    public init(fileValues: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.file = fileValues
        self.environment = environment
    }

    /// Layers over the top-level scalars of the YAML file at `path` (none when `path` is nil).
    public static func load(file path: String?) throws -> LayeredConfiguration {
        guard let path else { return LayeredConfiguration() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(setting: "config", reason: "cannot read \(path)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(setting: "config", reason: "\(path) is not valid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
        guard let mapping = node?.mapping else { throw ConfigurationError(setting: "config", reason: "\(path) is not a YAML mapping") }
        var values: [String: String] = [:]
        for (key, value) in mapping {
            if let key = key.string, let scalar = value.scalar { values[key] = scalar.string }
        }
        return LayeredConfiguration(fileValues: values)
    }

    /// `key` is the YAML key (camelCase); the environment variable is `QBEAST_` + its UPPER_SNAKE form.
    public func string(_ flag: String?, key: String) -> String? {
        if let flag { return flag }
        if let value = environment[Self.environmentName(key)], !value.isEmpty { return value }
        return file[key]
    }

    public static func environmentName(_ key: String) -> String {
        var name = "QBEAST_"
        for character in key {
            if character.isUppercase { name.append("_") }
            name.append(character.uppercased())
        }
        return name
    }
}

/// Parses durations written as `30s`, `5m`, `1h`, `250ms` or a bare number of seconds.
public func parseDuration(_ text: String) -> Duration? {
    if let seconds = Double(text) { return seconds >= 0 ? .milliseconds(Int64(seconds * 1000)) : nil }
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        if let amount = Double(text.dropLast(suffix.count)), amount >= 0 {
            return .milliseconds(Int64(amount * factor * 1000))
        }
    }
    return nil
}
