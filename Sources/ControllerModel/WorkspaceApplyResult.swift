import Foundation
import SplitPlaneProtocol

public struct WorkspaceApplyResult: Sendable {
    public var workspace: Workspace
    public var created: Bool
    /// The environment's new desired-state revision, or nil when nothing changed.
    public var revision: Int64?

    public init(workspace: Workspace, created: Bool, revision: Int64?) {
        self.workspace = workspace
        self.created = created
        self.revision = revision
    }
}
