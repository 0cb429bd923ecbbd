import Foundation
import Hummingbird
import SplitPlaneProtocol

/// Pagination of list answers: `?limit=N` (1 to 1000) and `?cursor=` from the previous page's
/// `next`. Pages are keyed on a stable sort key (names, ids), not on offsets, so objects created or
/// deleted between two pages neither repeat nor push others out. Without `limit` the whole list is
/// answered, as before.
struct ListPage {
    static let maximumLimit = 1000

    let limit: Int?
    /// Sort key of the last item of the previous page.
    let after: String?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw APIProblem(.badRequest, "limit: \"\(text)\" is not a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        } else {
            limit = nil
        }
        if let text = query["cursor"] {
            guard let key = Self.decode(String(text)) else {
                throw APIProblem(.badRequest, "cursor: not a cursor this API issued (use the `next` of the previous page)")
            }
            after = key
        } else {
            after = nil
        }
    }

    /// One page of `items` ordered by `key`.
    func page<Item>(_ items: [Item], key: (Item) -> String) -> ListResponse<Item> {
        let sorted = items.map { (key($0), $0) }.sorted { $0.0 < $1.0 }
        let remaining = after.map { after in sorted.drop { $0.0 <= after } } ?? sorted[...]
        guard let limit, remaining.count > limit else { return ListResponse(items: remaining.map(\.1)) }
        let page = remaining.prefix(limit)
        return ListResponse(items: page.map(\.1), next: page.last.map { Self.encode($0.0) })
    }

    static func encode(_ key: String) -> String {
        Data("k1:\(key)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> String? {
        guard cursor.count <= 1024 else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix("k1:") else { return nil }
        return String(text.dropFirst(3))
    }
}

/// Filters shared by list routes.
enum ListFilter {
    /// `?namePrefix=`: only names starting with it.
    static func namePrefix(_ request: Request) throws -> String? {
        guard let text = request.uri.queryParameters["namePrefix"].map(String.init) else { return nil }
        guard text.count <= 63, text.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }) else {
            throw APIProblem(.badRequest, "namePrefix: \"\(text.prefix(80))\" is not the start of a DNS-1123 name")
        }
        return text
    }

    /// `?<name>=true|false`.
    static func bool(_ request: Request, _ name: String) throws -> Bool? {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIProblem(.badRequest, "\(name): \"\(text.prefix(80))\" is not true or false")
        }
    }

    /// `?<name>=` one of an enumeration's raw values.
    static func value<T: RawRepresentable & CaseIterable>(_ request: Request, _ name: String, as type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let value = T(rawValue: text) else {
            throw APIProblem(.badRequest, "\(name): \"\(text.prefix(80))\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
