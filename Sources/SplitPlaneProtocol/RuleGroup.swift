import Foundation

/// A Prometheus rule-file group, carried as data in the workspace spec. Keys keep Prometheus' own
/// spelling (`keep_firing_for`, `eval_offset`) so rule files move over unchanged.
public struct RuleGroup: Codable, Equatable, Sendable {
    public var name: String
    public var interval: String?
    public var limit: Int?
    public var concurrency: Int?
    public var evalOffset: String?
    public var labels: [String: String]?
    public var rules: [AlertingRule]

    enum CodingKeys: String, CodingKey {
        case name, interval, limit, concurrency, labels, rules
        case evalOffset = "eval_offset"
    }

    public init(
        name: String, interval: String? = nil, limit: Int? = nil, concurrency: Int? = nil,
        evalOffset: String? = nil, labels: [String: String]? = nil, rules: [AlertingRule]
    ) {
        self.name = name
        self.interval = interval
        self.limit = limit
        self.concurrency = concurrency
        self.evalOffset = evalOffset
        self.labels = labels
        self.rules = rules
    }

    public func validate(field: String) throws(ValidationError) {
        if name.isEmpty { throw ValidationError(field: "\(field).name", reason: "must not be empty") }
        if let interval { try PrometheusDuration.validate(interval, field: "\(field).interval") }
        if let evalOffset { try PrometheusDuration.validate(evalOffset, field: "\(field).eval_offset") }
        if let limit, limit < 0 { throw ValidationError(field: "\(field).limit", reason: "must not be negative") }
        if let concurrency, concurrency < 1 { throw ValidationError(field: "\(field).concurrency", reason: "must be at least 1") }
        for (index, rule) in rules.enumerated() {
            try rule.validate(field: "\(field).rules[\(index)]")
        }
    }
}

public struct AlertingRule: Codable, Equatable, Sendable {
    public var alert: String?
    public var record: String?
    public var expr: String
    public var `for`: String?
    public var keepFiringFor: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    enum CodingKeys: String, CodingKey {
        case alert, record, expr, `for`, labels, annotations
        case keepFiringFor = "keep_firing_for"
    }

    public init(
        alert: String, expr: String, for duration: String? = nil, keepFiringFor: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.alert = alert
        self.expr = expr
        self.for = duration
        self.keepFiringFor = keepFiringFor
        self.labels = labels
        self.annotations = annotations
    }

    public func validate(field: String) throws(ValidationError) {
        if record != nil {
            throw ValidationError(field: "\(field).record", reason: "recording rules are not supported; only alerting rules are evaluated")
        }
        guard let alert, !alert.isEmpty else {
            throw ValidationError(field: "\(field).alert", reason: "an alerting rule needs a non-empty `alert` name")
        }
        if !PrometheusLabelName.isValidMetricName(alert) {
            throw ValidationError(field: "\(field).alert", reason: "\"\(alert)\" is not a valid alert name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        }
        if expr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError(field: "\(field).expr", reason: "must not be empty")
        }
        if let duration = self.for { try PrometheusDuration.validate(duration, field: "\(field).for") }
        if let keepFiringFor { try PrometheusDuration.validate(keepFiringFor, field: "\(field).keep_firing_for") }
        for name in (labels ?? [:]).keys.sorted() where !PrometheusLabelName.isValid(name) {
            throw ValidationError(field: "\(field).labels.\(name)", reason: "\"\(name)\" is not a valid label name")
        }
    }
}

public enum PrometheusLabelName {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    public static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first == ":" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0 == ":" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// Prometheus durations: `1h30m`, `5m`, `10s`, `250ms`, `1d`, `1w`, `1y`, in descending unit order.
public enum PrometheusDuration {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
            ("ms", 1), ("m", 60_000), ("s", 1000),
        ]
        if text == "0" { return .zero }
        var rest = Substring(text)
        var total: Int64 = 0
        var lastRank = -1
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let amount = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            // Units must appear largest first and at most once ("1h30m", not "30m1h").
            let order = ["y", "w", "d", "h", "m", "s", "ms"].firstIndex(of: unit.0)!
            guard order > lastRank else { return nil }
            lastRank = order
            rest = rest.dropFirst(unit.0.count)
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { return nil }
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !sumOverflow else { return nil }
            total = sum
        }
        return .milliseconds(total)
    }

    /// The shortest Prometheus spelling: `1h30m`, `15m`, `0s`, `250ms`.
    public static func format(_ duration: Duration) -> String {
        var milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where milliseconds >= size {
            text += "\(milliseconds / size)\(unit)"
            milliseconds %= size
        }
        return text
    }

    public static func validate(_ text: String, field: String) throws(ValidationError) {
        if parse(text) == nil {
            throw ValidationError(field: field, reason: "\"\(text)\" is not a Prometheus duration (e.g. 30s, 5m, 1h30m)")
        }
    }
}
