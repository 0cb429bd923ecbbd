import Foundation
import SplitPlaneProtocol

public struct EnvironmentUpdateResult: Sendable {
    public var environment: Environment
    /// The environment's new desired-state revision, or nil when nothing changed.
    public var revision: Int64?

    public init(environment: Environment, revision: Int64?) {
        self.environment = environment
        self.revision = revision
    }
}
