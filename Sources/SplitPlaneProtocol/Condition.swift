import Foundation

/// A Kubernetes-style condition: what is true about an object, why, and since when.
public struct Condition: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case `true` = "True", `false` = "False", unknown = "Unknown" }

    public var type: String
    public var status: Status
    public var reason: String
    public var message: String
    public var lastTransitionTime: Date

    public init(type: String, status: Status, reason: String, message: String, lastTransitionTime: Date) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

extension Array where Element == Condition {
    /// Sets a condition, keeping its `lastTransitionTime` unless its status actually changed —
    /// the rule Kubernetes controllers follow, so "since when" stays meaningful.
    public mutating func set(_ condition: Condition) {
        if let index = firstIndex(where: { $0.type == condition.type }) {
            var updated = condition
            if self[index].status == condition.status {
                updated.lastTransitionTime = self[index].lastTransitionTime
            }
            self[index] = updated
        } else {
            append(condition)
        }
    }

    public subscript(type type: String) -> Condition? { first { $0.type == type } }
}
