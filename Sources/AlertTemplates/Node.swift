/// The parse tree. Positions are byte offsets into the template text; `description` renders a
/// node the way Go's parse package does, for the `at <...>` part of execution errors.
indirect enum Node: Sendable {
    case text(String)
    /// Prints the pipeline's value unless the pipeline declares or assigns variables.
    case action(Pipeline)
    case ifElse(Pipeline, [Node], [Node]?)
    case with(Pipeline, [Node], [Node]?)
    case range(Pipeline, [Node], [Node]?)
    case breakLoop
    case continueLoop
}

/// `$x := cmd | cmd | ...`
struct Pipeline: Sendable, CustomStringConvertible {
    let pos: Int
    var declarations: [String] = []
    var isAssign = false
    var commands: [Command] = []

    var description: String {
        var text = ""
        if !declarations.isEmpty {
            text = declarations.joined(separator: ", ") + (isAssign ? " = " : " := ")
        }
        return text + commands.map(\.description).joined(separator: " | ")
    }
}

/// A function, method, field or value followed by space-separated arguments.
struct Command: Sendable, CustomStringConvertible {
    let pos: Int
    var arguments: [Operand] = []

    var description: String {
        arguments.map { operand in
            if case .pipeline(let pipe) = operand { return "(\(pipe))" }
            return operand.description
        }.joined(separator: " ")
    }
}

indirect enum Operand: Sendable, CustomStringConvertible {
    /// `.A.B` relative to dot.
    case field(pos: Int, names: [String])
    /// `$x.A.B`; `$` alone is the data the template was executed with.
    case variable(pos: Int, name: String, fields: [String])
    /// `(pipeline).A.B` and other field accesses on a non-field term.
    case chain(pos: Int, base: Operand, fields: [String])
    case function(pos: Int, TemplateFunction)
    case dot(pos: Int)
    case nilValue(pos: Int)
    case bool(pos: Int, Bool)
    case number(pos: Int, NumberLiteral)
    /// `quoted` is the literal as written, `value` the unquoted string.
    case string(pos: Int, quoted: String, value: String)
    case pipeline(Pipeline)

    var pos: Int {
        switch self {
        case .field(let pos, _), .variable(let pos, _, _), .chain(let pos, _, _), .function(let pos, _), .dot(let pos),
            .nilValue(let pos), .bool(let pos, _), .number(let pos, _), .string(let pos, _, _):
            pos
        case .pipeline(let pipe):
            pipe.pos
        }
    }

    var description: String {
        switch self {
        case .field(_, let names): return names.map { "." + $0 }.joined()
        case .variable(_, let name, let fields): return ([name] + fields).joined(separator: ".")
        case .chain(_, let base, let fields):
            let head = if case .pipeline = base { "(\(base))" } else { base.description }
            return head + fields.map { "." + $0 }.joined()
        case .function(_, let function): return function.name
        case .dot: return "."
        case .nilValue: return "nil"
        case .bool(_, let value): return value ? "true" : "false"
        case .number(_, let literal): return literal.text
        case .string(_, let quoted, _): return quoted
        case .pipeline(let pipe): return pipe.description
        }
    }
}
