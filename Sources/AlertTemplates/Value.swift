/// A template value, standing in for the Go types Prometheus templates see. The Go type matters:
/// it decides how values print, compare and convert, and appears in error messages.
indirect enum Value: Sendable {
    /// Go's invalid reflect.Value: an untyped nil, or a missing value. Prints "<no value>".
    case invalid
    case bool(Bool)
    /// Go int (and int64): integer literals, `len`, range indexes.
    case int(Int)
    /// Go float64: `$value`, float literals, `value`, `parseDuration`.
    case float(Double)
    case string(String)
    /// map[string]string: label sets.
    case labels([String: String])
    /// map[string]interface{}: what `args` returns.
    case dictionary([String: Value])
    /// template.queryResult: what `query` returns.
    case samples([QuerySample])
    /// *template.sample: one element of a query result.
    case sample(QuerySample)
    /// *time.Time, from `toTime`.
    case time(GoTime)
    /// *time.Duration, from `toDuration`.
    case duration(Int64)
    /// The struct templates execute on: Labels, ExternalLabels, ExternalURL, Value.
    case root(TemplateData)

    static let rootTypeName = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"

    /// The Go type name, as fmt's %T and error messages print it.
    var typeName: String {
        switch self {
        case .invalid: "<nil>"
        case .bool: "bool"
        case .int: "int"
        case .float: "float64"
        case .string: "string"
        case .labels: "map[string]string"
        case .dictionary: "map[string]interface {}"
        case .samples: "template.queryResult"
        case .sample: "*template.sample"
        case .time: "*time.Time"
        case .duration: "*time.Duration"
        case .root: Self.rootTypeName
        }
    }

    /// Go's truth: false, 0, nil and empty strings, maps and slices are false; pointers and
    /// structs are true.
    var isTrue: Bool {
        switch self {
        case .invalid: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .float(let value): value != 0
        case .string(let value): !value.isEmpty
        case .labels(let value): !value.isEmpty
        case .dictionary(let value): !value.isEmpty
        case .samples(let value): !value.isEmpty
        case .sample, .time, .duration, .root: true
        }
    }

    /// Whether the value is a struct whose `Value` field is declared interface{}.
    var hasInterfaceValueField: Bool {
        switch self {
        case .root, .sample: true
        default: false
        }
    }

    /// Whether fmt treats the value as a string (Sprint only spaces operands that are not).
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

extension Array where Element == String {
    /// Keys in Go's order for maps: byte-wise, which differs from Swift's String ordering.
    static func goSorted<Values: Collection>(_ keys: Values) -> [String] where Values.Element == String {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
