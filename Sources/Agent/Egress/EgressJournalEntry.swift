import Foundation

/// One line of the egress journal (JSON Lines): what left, when, how big, and its SHA-256, so a
/// reviewer can reconcile it with `qbeast_agent_bytes_sent_total` and with what the controller holds.
public struct EgressJournalEntry: Codable, Equatable, Sendable {
    public var time: Date
    public var kind: String
    public var bytes: Int
    /// Hex SHA-256 of the exact request body.
    public var sha256: String
    public var labelNames: [String]?
    public var annotationNames: [String]?
    /// The body itself, only with `--egress-journal-bodies`.
    public var body: String?
}
