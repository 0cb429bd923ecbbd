import Foundation
import SplitPlaneProtocol

/// `labelSelector` and `fieldSelector` query parameters: comma-separated requirements, all must hold.
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case valueIn(String, Set<String>)
        case valueNotIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement]

    init(parsing text: String) throws(KubeStatusError) {
        requirements = []
        for term in Self.splitTerms(text) {
            let term = term.trimmingSpaces
            if term.isEmpty { continue }
            requirements.append(try Self.requirement(term))
        }
    }

    /// Splits on commas outside parentheses.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    private static func requirement(_ term: String) throws(KubeStatusError) -> Requirement {
        for (word, isIn) in [(" notin ", false), (" in ", true)] {
            if let range = term.range(of: word) {
                let key = String(term[..<range.lowerBound]).trimmingSpaces
                var values = String(term[range.upperBound...]).trimmingSpaces
                guard values.hasPrefix("("), values.hasSuffix(")") else {
                    throw .badRequest("unable to parse requirement: found '\(values)', expected: '('")
                }
                values = String(values.dropFirst().dropLast())
                let set = Set(values.split(separator: ",").map { String($0).trimmingSpaces })
                return isIn ? .valueIn(key, set) : .valueNotIn(key, set)
            }
        }
        if let range = term.range(of: "!=") {
            return .notEquals(String(term[..<range.lowerBound]).trimmingSpaces, String(term[range.upperBound...]).trimmingSpaces)
        }
        if let range = term.range(of: "==") ?? term.range(of: "=") {
            return .equals(String(term[..<range.lowerBound]).trimmingSpaces, String(term[range.upperBound...]).trimmingSpaces)
        }
        if term.hasPrefix("!") { return .doesNotExist(String(term.dropFirst()).trimmingSpaces) }
        return .exists(term)
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .valueIn(let key, let values): labels[key].map(values.contains) ?? false
            case .valueNotIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }

    static func labels(of object: JSONValue) -> [String: String] {
        (object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// Field selectors support `metadata.name` and `metadata.namespace` (every resource supports these).
    static func fields(of object: JSONValue) -> [String: String] {
        var fields: [String: String] = [:]
        fields["metadata.name"] = object["metadata"]?["name"]?.stringValue ?? ""
        fields["metadata.namespace"] = object["metadata"]?["namespace"]?.stringValue ?? ""
        return fields
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
