import Foundation
import SplitPlaneProtocol

public struct AuditEntry: Sendable {
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var result: String
    public var address: String?
    public var detail: String?

    public init(at: Date, actor: String, action: String, target: String, result: String, address: String? = nil, detail: String? = nil) {
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.result = result
        self.address = address
        self.detail = detail
    }
}
