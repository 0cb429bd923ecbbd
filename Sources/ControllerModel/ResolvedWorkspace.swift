import Foundation
import SplitPlaneProtocol

/// A workspace's components resolved anew, and the generation of the spec they were resolved from.
public struct ResolvedWorkspace: Sendable {
    public var name: String
    public var generation: Int64
    public var components: [ResolvedComponent]

    public init(name: String, generation: Int64, components: [ResolvedComponent]) {
        self.name = name
        self.generation = generation
        self.components = components
    }
}
