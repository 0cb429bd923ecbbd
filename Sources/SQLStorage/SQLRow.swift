import Foundation

/// One result row, read by column name. Both drivers hand their rows over in this form.
public struct SQLRow: Sendable {
    public let values: [String: SQLValue]

    public init(_ values: [String: SQLValue]) {
        self.values = values
    }

    public func get<T: SQLDecodable>(_ column: String, as type: T.Type = T.self) throws(SQLError) -> T {
        guard let value = values[column] else { throw SQLError("no column \"\(column)\" in the result") }
        guard let decoded = T(sqlValue: value) else { throw SQLError("column \"\(column)\" holds \(value), not \(T.self)") }
        return decoded
    }

    /// A column's time, stored as seconds since 1970.
    public func date(_ column: String) throws(SQLError) -> Date { try get(column) }
    public func optionalDate(_ column: String) throws(SQLError) -> Date? { try get(column) }
}

/// A Swift type a column can be read as. `nil` from `init` means the stored value is of another kind.
public protocol SQLDecodable {
    init?(sqlValue: SQLValue)
}

extension String: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self = text
    }
}

extension Int64: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value) where value.rounded() == value && abs(value) < 9e18: self = Int64(value)
        default: return nil
        }
    }
}

extension Int: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = Int(value)
    }
}

extension Double: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

/// PostgreSQL has booleans; SQLite stores them as 0 and 1.
extension Bool: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .bool(let value): self = value
        case .integer(let value): self = value != 0
        default: return nil
        }
    }
}

extension Date: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        guard let seconds = Double(sqlValue: sqlValue) else { return nil }
        self = Date(timeIntervalSince1970: seconds)
    }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public init?(sqlValue: SQLValue) {
        if sqlValue == .null {
            self = .none
        } else if let value = Wrapped(sqlValue: sqlValue) {
            self = .some(value)
        } else {
            return nil
        }
    }
}

/// A statement the database refused or a result the store did not expect; the text never carries
/// bound values.
public struct SQLError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
