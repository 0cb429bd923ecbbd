import Yams

/// Alertmanager's inhibition: while a firing alert matches `source_matchers`, alerts matching
/// `target_matchers` that carry the same values for every `equal` label are not notified.
public struct InhibitRule: Sendable, Equatable {
    public var sourceMatchers: [LabelMatcher]
    public var targetMatchers: [LabelMatcher]
    public var equal: [String]

    public init(sourceMatchers: [LabelMatcher], targetMatchers: [LabelMatcher], equal: [String]) {
        self.sourceMatchers = sourceMatchers
        self.targetMatchers = targetMatchers
        self.equal = equal
    }

    static func parse(_ node: Node, path: String) throws(RoutingConfigError) -> InhibitRule {
        let mapping = try ConfigNodes.mapping(node, path, allowed: ["source_matchers", "target_matchers", "equal"])
        let rule = InhibitRule(
            sourceMatchers: try ConfigNodes.matchers(mapping["source_matchers"], "\(path).source_matchers"),
            targetMatchers: try ConfigNodes.matchers(mapping["target_matchers"], "\(path).target_matchers"),
            equal: try mapping["equal"].map { node throws(RoutingConfigError) in try ConfigNodes.labelNames(node, "\(path).equal", allowEllipsis: false) } ?? []
        )
        if rule.sourceMatchers.isEmpty || rule.targetMatchers.isEmpty {
            throw ConfigNodes.at(node, path, "an inhibit rule needs both `source_matchers` and `target_matchers`")
        }
        return rule
    }

    /// True when `source` (a firing alert other than `target`) inhibits `target` under this rule.
    public func inhibits(target: [String: String], source: [String: String]) -> Bool {
        guard targetMatchers.allSatisfy({ $0.matches(target) }), sourceMatchers.allSatisfy({ $0.matches(source) }) else { return false }
        // An alert that matches both sides is not inhibited by another that also does: otherwise two
        // critical alerts of one rule would silence each other (Alertmanager's rule).
        if sourceMatchers.allSatisfy({ $0.matches(target) }) && targetMatchers.allSatisfy({ $0.matches(source) }) { return false }
        return equal.allSatisfy { (target[$0] ?? "") == (source[$0] ?? "") }
    }
}
