/// The parsed form of a template: Go text/template's node kinds, limited to what rule files use.
indirect enum TemplateNode: Sendable {
    case text(String)
    case action(Pipeline)
    case ifNode(branches: [(Pipeline, [TemplateNode])], otherwise: [TemplateNode]?)
    case range(Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case with(Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
}

struct Pipeline: Sendable {
    /// `$x := …` declares, `$x = …` assigns; range may declare two (`$k, $v :=`).
    var variables: [String] = []
    var isAssignment = false
    var commands: [[Operand]]
    var position: String
}

indirect enum Operand: Sendable {
    case field([String])                     // .Labels.instance
    case variable(String, [String])          // $labels.instance, $
    case string(String)
    case number(Double, isInteger: Bool)
    case bool(Bool)
    case null
    case identifier(String)                  // a function name
    case pipeline(Pipeline)                  // ( … )
}
