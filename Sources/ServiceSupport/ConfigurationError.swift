import Foundation

/// A configuration value that could not be used, named the way the user wrote it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var setting: String
    public var reason: String
    public init(setting: String, reason: String) {
        self.setting = setting
        self.reason = reason
    }
    public var description: String { "\(setting): \(reason)" }
}
