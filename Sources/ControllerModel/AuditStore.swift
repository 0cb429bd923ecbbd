import Foundation
import SplitPlaneProtocol

/// The audit log: who did what, through which credential, with what outcome.
public protocol AuditStore: Sendable {
    func audit(_ entry: AuditEntry) async throws
    /// Newest first; `before` pages by record id.
    func auditRecords(limit: Int, before: Int64?) async throws -> [AuditRecord]
}
