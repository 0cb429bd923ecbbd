import Foundation

/// RFC 9457 problem details, the body of every error answer.
public struct Problem: Codable, Equatable, Sendable, Error {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?

    public init(type: String = "about:blank", title: String, status: Int, detail: String, instance: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
    }

    public static let contentType = "application/problem+json"
}
