import AlertTemplates
import Foundation
import SplitPlaneProtocol

/// An alerting rule ready to evaluate: durations parsed and templates compiled once, when the spec
/// arrives, so a broken template is a validation error then and never a crash at evaluation time.
public struct CompiledRule: Sendable {
    public let name: String
    public let expression: String
    public let holdDuration: Duration
    public let keepFiringFor: Duration
    let labelTemplates: [(name: String, template: AlertTemplate)]
    let annotationTemplates: [(name: String, template: AlertTemplate)]
    /// Names of the rule's own `labels:` whose values are constant text (no template action): written in
    /// the rule, not read from the customer's data, so the data boundary lets them cross.
    public let constantLabelNames: Set<String>
    /// Stable across spec updates that leave the rule itself unchanged, so its alert state carries over.
    public let key: String

    public init(_ rule: AlertingRule, groupLabels: [String: String], field: String) throws(ValidationError) {
        try rule.validate(field: field)
        name = rule.alert ?? ""
        expression = rule.expr
        holdDuration = rule.for.flatMap(PrometheusDuration.parse) ?? .zero
        keepFiringFor = rule.keepFiringFor.flatMap(PrometheusDuration.parse) ?? .zero
        // Group labels apply first; a rule's own label of the same name wins (as in vmalert).
        let labels = groupLabels.merging(rule.labels ?? [:]) { $1 }
        labelTemplates = try Self.compile(labels, field: "\(field).labels")
        constantLabelNames = Set(labels.filter { !$0.value.contains("{{") }.keys)
        annotationTemplates = try Self.compile(rule.annotations ?? [:], field: "\(field).annotations")
        let identity =
            [name, expression, rule.for ?? "", rule.keepFiringFor ?? ""]
            + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        key = name + "-" + Hex.sha256(identity.joined(separator: "\u{0}"), bytes: 8)
    }

    private static func compile(_ templates: [String: String], field: String) throws(ValidationError) -> [(name: String, template: AlertTemplate)] {
        var compiled: [(name: String, template: AlertTemplate)] = []
        for (name, text) in templates.sorted(by: { $0.key < $1.key }) {
            do {
                compiled.append((name, try AlertTemplate(text, name: name)))
            } catch {
                throw ValidationError(field: "\(field).\(name)", reason: "\(error)")
            }
        }
        return compiled
    }
}

/// A rule group ready to schedule.
public struct CompiledRuleGroup: Sendable {
    public let workspace: String
    public let name: String
    public let interval: Duration
    public let evalOffset: Duration?
    public let limit: Int
    public let concurrency: Int
    public let rules: [CompiledRule]

    public init(_ group: RuleGroup, workspace: String, defaultInterval: Duration, field: String) throws(ValidationError) {
        try group.validate(field: field)
        self.workspace = workspace
        name = group.name
        interval = group.interval.flatMap(PrometheusDuration.parse) ?? defaultInterval
        if interval <= .zero { throw ValidationError(field: "\(field).interval", reason: "must be positive") }
        evalOffset = group.evalOffset.flatMap(PrometheusDuration.parse)
        if let evalOffset, evalOffset >= interval {
            throw ValidationError(field: "\(field).eval_offset", reason: "must be smaller than the group interval")
        }
        limit = group.limit ?? 0
        concurrency = max(1, group.concurrency ?? 1)
        var rules: [CompiledRule] = []
        for (index, rule) in group.rules.enumerated() {
            rules.append(try CompiledRule(rule, groupLabels: group.labels ?? [:], field: "\(field).rules[\(index)]"))
        }
        self.rules = rules
    }

    /// The evaluation time of the round due at or before `now`: aligned to the interval (and shifted by
    /// `eval_offset`), as vmalert does, so every agent queries the same instants.
    public func alignedTime(atOrBefore now: Date) -> Date {
        let step = interval.timeInterval
        let offset = evalOffset?.timeInterval ?? 0
        let aligned = ((now.timeIntervalSince1970 - offset) / step).rounded(.down) * step + offset
        return Date(timeIntervalSince1970: aligned)
    }
}
