import Foundation
import RegexBudget

/// An Alertmanager label matcher: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
/// Regexes are anchored at both ends, as Alertmanager anchors them.
public struct LabelMatcher: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=", notEqual = "!=", regexMatch = "=~", regexNoMatch = "!~"
    }

    public let name: String
    public let op: Operator
    public let value: String
    private let regex: NSRegularExpressionBox?

    public init(name: String, op: Operator, value: String) throws(RoutingConfigError) {
        guard Self.isLabelName(name) else { throw RoutingConfigError("\"\(name)\" is not a valid label name") }
        self.name = name
        self.op = op
        self.value = value
        if op == .regexMatch || op == .regexNoMatch {
            do {
                regex = NSRegularExpressionBox(try NSRegularExpression(pattern: "^(?:\(value))$"))
            } catch {
                throw RoutingConfigError("matcher \(name)\(op.rawValue)\"\(value)\": the regular expression does not compile")
            }
        } else {
            regex = nil
        }
    }

    /// Parses the text form used in configuration and the API, e.g. `severity="critical"` or `team=~"data|ml"`.
    public static func parse(_ text: String) throws(RoutingConfigError) -> LabelMatcher {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let nameEnd = trimmed.firstIndex(where: { "=!~".contains($0) }) else {
            throw RoutingConfigError("\"\(text)\" is not a matcher (name, one of = != =~ !~, value)")
        }
        let name = trimmed[..<nameEnd].trimmingCharacters(in: .whitespaces)
        let rest = trimmed[nameEnd...]
        guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }).first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw RoutingConfigError("\"\(text)\" has no valid operator (= != =~ !~)")
        }
        var value = rest.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\"") {
            guard value.count >= 2, value.hasSuffix("\""), !value.hasSuffix("\\\"") || value.hasSuffix("\\\\\"") else {
                throw RoutingConfigError("\"\(text)\": unterminated quoted value")
            }
            value = String(value.dropFirst().dropLast())
                .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
        }
        return try LabelMatcher(name: name, op: op, value: value)
    }

    public func matches(_ labels: [String: String]) -> Bool {
        // A missing label matches as the empty string, as in Alertmanager.
        let actual = labels[name] ?? ""
        switch op {
        case .equal: return actual == value
        case .notEqual: return actual != value
        // A regex that runs past its budget matches nothing, either way round: a silence or inhibition
        // then mutes nothing, and a route does not take the alert (it goes on to the next, or the root).
        case .regexMatch: return regex!.matches(actual) ?? false
        case .regexNoMatch: return regex!.matches(actual).map(!) ?? false
        }
    }

    public var description: String { "\(name)\(op.rawValue)\"\(value)\"" }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool { a.name == b.name && a.op == b.op && a.value == b.value }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// NSRegularExpression is immutable once built and safe to share; the box says so to the compiler.
final class NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
    /// nil when matching ran past the budget (`RegexBudget`).
    func matches(_ text: String) -> Bool? {
        (try? regex.boundedMatches(in: text, first: true)).map { !$0.isEmpty }
    }
}

/// A routing configuration that cannot be used, with where and why.
public struct RoutingConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
