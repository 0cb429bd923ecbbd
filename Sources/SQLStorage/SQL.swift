/// A statement with its values kept apart from its text: `"SELECT * FROM t WHERE a = \(value)"`
/// binds `value`; `\(raw: text)` inserts trusted text (a dialect's fragment, a column list);
/// `\(fragment)` splices another statement's text and values. Each driver renders the placeholders
/// its database wants (`?` for SQLite, `$1` … for PostgreSQL), so one statement serves both.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public enum Part: Sendable, Equatable {
        case text(String)
        case value(SQLValue)
    }

    public private(set) var parts: [Part]

    public init(stringLiteral value: String) {
        parts = [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
    }

    public init(parts: [Part]) {
        self.parts = parts
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { parts.append(.text(literal)) }
        }

        public mutating func appendInterpolation(_ value: some SQLBindable) {
            parts.append(.value(value.sqlValue))
        }

        public mutating func appendInterpolation(_ fragment: SQL) {
            parts += fragment.parts
        }

        public mutating func appendInterpolation(raw text: String) {
            parts.append(.text(text))
        }
    }

    /// The statement's text with `placeholder(n)` (1-based) for each value, and the values in order.
    public func rendered(placeholder: (Int) -> String) -> (text: String, values: [SQLValue]) {
        var text = ""
        var values: [SQLValue] = []
        for part in parts {
            switch part {
            case .text(let fragment):
                text += fragment
            case .value(let value):
                values.append(value)
                text += placeholder(values.count)
            }
        }
        return (text, values)
    }

    /// The text with `?` placeholders, for logs and errors (never the values: they may be secrets).
    public var description: String { rendered { _ in "?" }.text }

    /// `parts` joined by `separator` (e.g. a list of value tuples).
    public static func joined(_ fragments: [SQL], separator: String) -> SQL {
        var parts: [Part] = []
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { parts.append(.text(separator)) }
            parts += fragment.parts
        }
        return SQL(parts: parts)
    }
}
