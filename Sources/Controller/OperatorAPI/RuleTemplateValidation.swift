import AlertTemplates
import SplitPlaneProtocol

/// Rule label and annotation templates are compiled when a workspace is applied, so a template that
/// would never render is refused with a 400 here instead of surfacing later in the agent's status.
enum RuleTemplateValidation {
    static func validate(_ spec: WorkspaceSpec) throws(ValidationError) {
        for (groupIndex, group) in spec.ruleGroups.enumerated() {
            for (ruleIndex, rule) in group.rules.enumerated() {
                let field = "spec.ruleGroups[\(groupIndex)].rules[\(ruleIndex)]"
                for (kind, templates) in [("labels", (group.labels ?? [:]).merging(rule.labels ?? [:]) { $1 }), ("annotations", rule.annotations ?? [:])] {
                    for (name, text) in templates.sorted(by: { $0.key < $1.key }) {
                        do {
                            _ = try AlertTemplate(text, name: name)
                        } catch {
                            throw ValidationError(field: "\(field).\(kind).\(name)", reason: "\(error)")
                        }
                    }
                }
            }
        }
    }
}
