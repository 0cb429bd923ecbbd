import Foundation

/// Every list answer has this shape, so pagination can be added without breaking clients.
public struct ListResponse<Item: Codable & Sendable & Equatable>: Codable, Equatable, Sendable {
    public var items: [Item]
    /// Opaque cursor of the next page (`?cursor=`); absent on the last page.
    public var next: String?

    public init(items: [Item], next: String? = nil) {
        self.items = items
        self.next = next
    }
}
