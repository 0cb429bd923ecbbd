/// How large one alert may be when it crosses to the controller. The controller refuses a batch that
/// breaks them (400, naming the limit); it hands its limits to agents in the desired state, and agents
/// trim alerts to them before sending, so a rule that produces a monster alert still gets through,
/// smaller, instead of being set aside.
public struct AlertLimits: Codable, Equatable, Hashable, Sendable {
    public var maxAlertsPerBatch: Int
    public var maxLabels: Int
    public var maxLabelNameLength: Int
    public var maxLabelValueLength: Int
    public var maxAnnotations: Int
    public var maxAnnotationLength: Int
    /// Bytes of every label and annotation name and value together.
    public var maxAlertSize: Int

    public init(
        maxAlertsPerBatch: Int = 1000, maxLabels: Int = 64, maxLabelNameLength: Int = 128, maxLabelValueLength: Int = 2048,
        maxAnnotations: Int = 32, maxAnnotationLength: Int = 8192, maxAlertSize: Int = 32 * 1024
    ) {
        self.maxAlertsPerBatch = maxAlertsPerBatch
        self.maxLabels = maxLabels
        self.maxLabelNameLength = maxLabelNameLength
        self.maxLabelValueLength = maxLabelValueLength
        self.maxAnnotations = maxAnnotations
        self.maxAnnotationLength = maxAnnotationLength
        self.maxAlertSize = maxAlertSize
    }

    public static let `default` = AlertLimits()

    /// Refuses limits that would make every alert impossible.
    public func validate() throws(ValidationError) {
        let fields: [(String, Int, Int)] = [
            ("maxAlertsPerBatch", maxAlertsPerBatch, 1), ("maxLabels", maxLabels, 2),
            ("maxLabelNameLength", maxLabelNameLength, 16), ("maxLabelValueLength", maxLabelValueLength, 64),
            ("maxAnnotations", maxAnnotations, 0), ("maxAnnotationLength", maxAnnotationLength, 64),
            ("maxAlertSize", maxAlertSize, 1024),
        ]
        for (name, value, minimum) in fields where value < minimum {
            throw ValidationError(field: name, reason: "must be at least \(minimum), got \(value)")
        }
    }

    public static func size(of alert: AgentAlert) -> Int {
        alert.labels.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            + alert.annotations.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }

    /// The controller's check, at the gateway: the first limit `alert` breaks, as a 400 detail.
    public func check(_ alert: AgentAlert, field: String) throws(ValidationError) {
        if alert.labels.count > maxLabels {
            throw ValidationError(field: "\(field).labels", reason: "\(alert.labels.count) labels; the limit is \(maxLabels) per alert")
        }
        for (name, value) in alert.labels.sorted(by: { $0.key < $1.key }) {
            if name.utf8.count > maxLabelNameLength {
                throw ValidationError(field: "\(field).labels", reason: "a label name of \(name.utf8.count) bytes; the limit is \(maxLabelNameLength)")
            }
            if value.utf8.count > maxLabelValueLength {
                throw ValidationError(
                    field: "\(field).labels.\(name)", reason: "\(value.utf8.count) bytes; the limit is \(maxLabelValueLength) per label value")
            }
        }
        if alert.annotations.count > maxAnnotations {
            throw ValidationError(field: "\(field).annotations", reason: "\(alert.annotations.count) annotations; the limit is \(maxAnnotations) per alert")
        }
        for (name, value) in alert.annotations.sorted(by: { $0.key < $1.key }) {
            if name.utf8.count > maxLabelNameLength {
                throw ValidationError(
                    field: "\(field).annotations", reason: "an annotation name of \(name.utf8.count) bytes; the limit is \(maxLabelNameLength)")
            }
            if value.utf8.count > maxAnnotationLength {
                throw ValidationError(
                    field: "\(field).annotations.\(name)", reason: "\(value.utf8.count) bytes; the limit is \(maxAnnotationLength) per annotation")
            }
        }
        let size = Self.size(of: alert)
        if size > maxAlertSize {
            throw ValidationError(field: field, reason: "labels and annotations of \(size) bytes; the limit is \(maxAlertSize) per alert")
        }
    }

    /// What the agent changed to make an alert fit, named by field and never by value.
    public struct Trim: Equatable, Sendable {
        public var field: String
        public var reason: String
        public init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    /// The agent's side: `alert` made to fit, and what was cut. Values are shortened at a character
    /// boundary; names too long, and labels or annotations past the count, are dropped (`alertname`
    /// and `severity` are kept first; `summary` and `description` likewise); annotations, largest
    /// first, then labels go until the whole alert fits.
    public func conform(_ alert: AgentAlert) -> (AgentAlert, [Trim]) {
        var alert = alert
        var trims: [Trim] = []
        func cut(_ values: inout [String: String], kind: String, maxValue: Int, maxCount: Int, keepFirst: [String]) {
            for name in values.keys.sorted() {
                if name.utf8.count > maxLabelNameLength {
                    values[name] = nil
                    trims.append(Trim(field: kind, reason: "a name longer than \(maxLabelNameLength) bytes was dropped"))
                } else if let value = values[name], value.utf8.count > maxValue {
                    values[name] = Self.truncate(value, to: maxValue)
                    trims.append(Trim(field: "\(kind).\(name)", reason: "shortened to \(maxValue) bytes"))
                }
            }
            if values.count > maxCount {
                let order = keepFirst.filter { values[$0] != nil } + values.keys.filter { !keepFirst.contains($0) }.sorted()
                for name in order.dropFirst(maxCount) { values[name] = nil }
                trims.append(Trim(field: kind, reason: "\(order.count - maxCount) past the limit of \(maxCount) dropped"))
            }
        }
        cut(&alert.labels, kind: "labels", maxValue: maxLabelValueLength, maxCount: maxLabels, keepFirst: ["alertname", "severity"])
        cut(&alert.annotations, kind: "annotations", maxValue: maxAnnotationLength, maxCount: maxAnnotations, keepFirst: ["summary", "description"])
        while Self.size(of: alert) > maxAlertSize {
            if let largest = alert.annotations.max(by: { ($0.value.utf8.count, $1.key) < ($1.value.utf8.count, $0.key) })?.key {
                alert.annotations[largest] = nil
                trims.append(Trim(field: "annotations.\(largest)", reason: "dropped to fit the \(maxAlertSize)-byte alert limit"))
            } else if let last = alert.labels.keys.filter({ $0 != "alertname" }).sorted().last {
                alert.labels[last] = nil
                trims.append(Trim(field: "labels.\(last)", reason: "dropped to fit the \(maxAlertSize)-byte alert limit"))
            } else {
                break
            }
        }
        return (alert, trims)
    }

    /// At most `limit` UTF-8 bytes, cut at a character boundary, ending in "…" when shortened.
    static func truncate(_ value: String, to limit: Int) -> String {
        let ellipsis = "…"
        var result = ""
        var used = 0
        let budget = limit - ellipsis.utf8.count
        for character in value {
            let size = character.utf8.count
            if used + size > budget { break }
            result.append(character)
            used += size
        }
        return result + ellipsis
    }
}
