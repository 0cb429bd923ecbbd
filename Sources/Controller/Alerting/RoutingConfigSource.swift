import AlertRouting
import Foundation
import Synchronization

/// The routing configuration in force, and the file it is reloaded from (on SIGHUP or
/// `POST /v1/routing-config/reload`). A reload that fails leaves the running configuration in place.
public final class RoutingConfigSource: Sendable {
    public struct Loaded: Sendable {
        public var config: RoutingConfig
        public var path: String?
        public var loadedAt: Date
    }

    private let state: Mutex<Loaded>
    private let environment: [String: String]

    public init(config: RoutingConfig, path: String? = nil, loadedAt: Date = Date(), environment: [String: String] = ProcessInfo.processInfo.environment) {
        state = Mutex(Loaded(config: config, path: path, loadedAt: loadedAt))
        self.environment = environment
    }

    /// Loads `path` once; the controller refuses to start on an invalid file.
    public static func load(
        path: String, at now: Date = Date(), environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(RoutingConfigError) -> RoutingConfigSource {
        RoutingConfigSource(config: try read(path, environment: environment), path: path, loadedAt: now, environment: environment)
    }

    public var current: Loaded { state.withLock { $0 } }
    public var config: RoutingConfig { state.withLock { $0.config } }

    /// Re-reads the file. Throws (and keeps the running configuration) when it is invalid.
    @discardableResult
    public func reload(at now: Date) throws(RoutingConfigError) -> Loaded {
        guard let path = state.withLock({ $0.path }) else {
            throw RoutingConfigError("the controller was started without --routing-config; there is no file to reload")
        }
        let config = try Self.read(path, environment: environment)
        return state.withLock { state in
            state.config = config
            state.loadedAt = now
            return state
        }
    }

    private static func read(_ path: String, environment: [String: String]) throws(RoutingConfigError) -> RoutingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw RoutingConfigError("cannot read \(path)") }
        do {
            return try RoutingConfig.parse(yaml: text, environment: environment)
        } catch {
            throw RoutingConfigError("\(path): \(error.description)")
        }
    }
}
