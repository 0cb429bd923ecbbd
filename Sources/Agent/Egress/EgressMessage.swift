import Foundation

/// One message the agent sends upstream, as it leaves: its kind (`status`, `alerts`, `certificate`),
/// the exact body, and for alerts the label and annotation names it carries.
public struct EgressMessage: Sendable {
    public var kind: String
    public var body: Data
    public var labelNames: Set<String>?
    public var annotationNames: Set<String>?

    public init(kind: String, body: Data, labelNames: Set<String>? = nil, annotationNames: Set<String>? = nil) {
        self.kind = kind
        self.body = body
        self.labelNames = labelNames
        self.annotationNames = annotationNames
    }
}
