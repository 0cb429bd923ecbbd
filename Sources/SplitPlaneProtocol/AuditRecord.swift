import Foundation

/// One audit record: who did what, when, from where, and how it ended. Never holds a secret.
public struct AuditRecord: Codable, Equatable, Sendable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var result: String
    public var address: String?
    public var detail: String?

    public init(id: Int64, at: Date, actor: String, action: String, target: String, result: String, address: String?, detail: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.result = result
        self.address = address
        self.detail = detail
    }
}
