/// Values a template works with: what Prometheus hands Go's text/template (label maps, the sample
/// value, query results) and what its functions return.
indirect enum TemplateValue: Sendable {
    case null
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case labels([String: String])
    case object([String: TemplateValue])
    case samples([QuerySample])
    case sample(QuerySample)

    /// Go's truth: false, 0, nil and empty strings, maps and slices are false.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .string(let text): !text.isEmpty
        case .number(let value): value != 0
        case .integer(let value): value != 0
        case .bool(let value): value
        case .labels(let map): !map.isEmpty
        case .object(let map): !map.isEmpty
        case .samples(let list): !list.isEmpty
        case .sample: true
        }
    }

    /// What `{{ value }}` prints, as Go's `fmt.Print` would.
    var printed: String {
        switch self {
        case .null: "<no value>"
        case .string(let text): text
        case .number(let value): GoFormat.float(value)
        case .integer(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .labels(let map): "map[" + map.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ") + "]"
        case .object(let map): "map[" + map.keys.sorted().joined(separator: " ") + "]"
        case .samples(let list): "[" + list.map { TemplateValue.sample($0).printed }.joined(separator: " ") + "]"
        case .sample(let sample): "{map[" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ") + "] \(GoFormat.float(sample.value))}"
        }
    }

    var typeName: String {
        switch self {
        case .null: "nil"
        case .string: "string"
        case .number: "float64"
        case .integer: "int"
        case .bool: "bool"
        case .labels: "map[string]string"
        case .object: "struct"
        case .samples: "queryResult"
        case .sample: "sample"
        }
    }

    /// Prometheus' `convertToFloat`: numbers, and strings that parse as numbers.
    func asDouble() throws(TemplateError) -> Double {
        switch self {
        case .number(let value): return value
        case .integer(let value): return Double(value)
        case .string(let text):
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw TemplateError(message: "strconv.ParseFloat: parsing \"\(text)\": invalid syntax")
            }
            return value
        default:
            throw TemplateError(message: "can't convert \(typeName) to float")
        }
    }
}

import Foundation
