/// A port of Go's text/template parser (parse.Tree) over the lexer's tokens. Functions are
/// resolved and variables checked here, so unknown names fail when the rule is loaded.
struct Parser {
    private let text: String
    private let name: String
    private let tokens: [Token]
    private var index = 0
    /// Variables in scope; `$` and Prometheus' header variables are always there.
    private var variables: [String]
    private let limits: TemplateLimits
    private var rangeDepth = 0
    /// Controls and parentheses open around the current position; bounded so recursion stays shallow.
    private var depth = 0
    /// Position of the "{{" that opened the action being parsed, for "unclosed action" messages.
    private var actionStart: Int?

    /// Parse-time-only markers that end an item list.
    private enum Item {
        case node(Node)
        case end(pos: Int)
        case elseClause(pos: Int)
    }

    init(text: String, name: String, predeclared: [String], limits: TemplateLimits = .default) {
        self.text = text
        self.name = name
        self.limits = limits
        // Lexing is iterative and linear; an oversized text is refused before it is even looked at.
        self.tokens = text.utf8.count > limits.maxTextBytes ? [] : Lexer.tokenize(text)
        self.variables = predeclared
    }

    mutating func parse() throws(ParseFailure) -> [Node] {
        if text.utf8.count > limits.maxTextBytes {
            throw ParseFailure(offset: 0, message: "template is \(text.utf8.count) bytes, more than the limit of \(limits.maxTextBytes)")
        }
        if tokens.count > limits.maxElements {
            throw ParseFailure(
                offset: tokens[limits.maxElements].pos,
                message: "template has more than \(limits.maxElements) elements")
        }
        var root: [Node] = []
        while peek().kind != .eof {
            switch try textOrAction() {
            case .node(let node): root.append(node)
            case .end(let pos): throw ParseFailure(offset: pos, message: "unexpected {{end}}")
            case .elseClause(let pos): throw ParseFailure(offset: pos, message: "unexpected {{else}}")
            }
        }
        return root
    }

    // MARK: Token stream

    private mutating func next() -> Token {
        let token = tokens[min(index, tokens.count - 1)]
        index += 1
        return token
    }

    private mutating func backup() { index -= 1 }

    private func peek() -> Token { tokens[min(index, tokens.count - 1)] }

    private mutating func nextNonSpace() -> Token {
        var token = next()
        while token.kind == .space { token = next() }
        return token
    }

    private mutating func peekNonSpace() -> Token {
        let token = nextNonSpace()
        backup()
        return token
    }

    private mutating func expect(_ kind: TokenKind, _ context: String) throws(ParseFailure) -> Token {
        let token = nextNonSpace()
        if token.kind != kind { try unexpected(token, context) }
        return token
    }

    private func unexpected(_ token: Token, _ context: String) throws(ParseFailure) -> Never {
        if token.kind == .error {
            throw ParseFailure(offset: token.pos, message: token.value + actionStartedSuffix(token))
        }
        throw ParseFailure(offset: token.pos, message: "unexpected \(token.goDescription) in \(context)")
    }

    /// Go adds " in action started at NAME:LINE" when a lexer error lands on a later line than the
    /// action's "{{" (dropping the doubled "action" from "unclosed action in action started at").
    private func actionStartedSuffix(_ token: Token) -> String {
        guard let actionStart else { return "" }
        let startLine = Diagnostics.line(of: actionStart, in: text)
        guard startLine != Diagnostics.line(of: token.pos, in: text) else { return "" }
        let location = name == Diagnostics.defaultName ? "line \(startLine)" : "\(name):\(startLine)"
        let suffix = " in action started at \(location)"
        return token.value.hasSuffix(" action") ? String(suffix.dropFirst(" in action".count)) : suffix
    }

    // MARK: Lists and actions

    /// textOrAction* up to an {{end}} or {{else}}, which is returned separately.
    private mutating func itemList() throws(ParseFailure) -> ([Node], Item) {
        var list: [Node] = []
        while peekNonSpace().kind != .eof {
            let item = try textOrAction()
            if case .node(let node) = item {
                list.append(node)
            } else {
                return (list, item)
            }
        }
        throw ParseFailure(offset: peek().pos, message: "unexpected EOF")
    }

    private mutating func textOrAction() throws(ParseFailure) -> Item {
        let token = nextNonSpace()
        switch token.kind {
        case .text:
            return .node(.text(token.value))
        case .leftDelim:
            actionStart = token.pos
            defer { actionStart = nil }
            return try action()
        default:
            try unexpected(token, "input")
        }
    }

    private mutating func action() throws(ParseFailure) -> Item {
        let token = nextNonSpace()
        switch token.kind {
        case .block, .define, .template:
            throw ParseFailure(offset: token.pos, message: "{{\(token.value)}} is not supported")
        case .breakKeyword, .continueKeyword:
            return .node(try loopControl(token))
        case .elseKeyword:
            return try elseControl(token)
        case .end:
            _ = try expect(.rightDelim, "end")
            return .end(pos: token.pos)
        case .ifKeyword:
            return .node(try ifControl())
        case .range:
            let (pipe, list, elseList) = try parseControl("range")
            return .node(.range(pipe, list, elseList))
        case .with:
            return .node(try withControl())
        default:
            backup()
            // Variables declared here persist until the enclosing {{end}}.
            return .node(.action(try pipeline("command", end: .rightDelim)))
        }
    }

    private mutating func loopControl(_ keyword: Token) throws(ParseFailure) -> Node {
        let name = keyword.kind == .breakKeyword ? "break" : "continue"
        let token = nextNonSpace()
        if token.kind != .rightDelim { try unexpected(token, "{{\(name)}}") }
        guard rangeDepth > 0 else {
            throw ParseFailure(offset: keyword.pos, message: "{{\(name)}} outside {{range}}")
        }
        return keyword.kind == .breakKeyword ? .breakLoop : .continueLoop
    }

    /// "{{else if ...}}" and "{{else with ...}}" leave the "if"/"with" pending for parseControl.
    private mutating func elseControl(_ keyword: Token) throws(ParseFailure) -> Item {
        let peeked = peekNonSpace()
        if peeked.kind != .ifKeyword && peeked.kind != .with {
            _ = try expect(.rightDelim, "else")
        }
        return .elseClause(pos: keyword.pos)
    }

    private mutating func ifControl() throws(ParseFailure) -> Node {
        let (pipe, list, elseList) = try parseControl("if")
        return .ifElse(pipe, list, elseList)
    }

    private mutating func withControl() throws(ParseFailure) -> Node {
        let (pipe, list, elseList) = try parseControl("with")
        return .with(pipe, list, elseList)
    }

    /// Enters one more level of nesting, refusing to go deeper than the limit.
    private mutating func enterNesting(at pos: Int) throws(ParseFailure) {
        depth += 1
        guard depth <= limits.maxNestingDepth else {
            throw ParseFailure(
                offset: pos, message: "nesting deeper than \(limits.maxNestingDepth) levels (if, else if, range, with and parentheses count together)")
        }
    }

    private mutating func parseControl(_ context: String) throws(ParseFailure) -> (Pipeline, [Node], [Node]?) {
        try enterNesting(at: peek().pos)
        defer { depth -= 1 }
        let scope = variables.count
        defer { variables.removeSubrange(scope...) }
        let pipe = try pipeline(context, end: .rightDelim)
        if context == "range" { rangeDepth += 1 }
        let (list, terminator) = try itemList()
        if context == "range" { rangeDepth -= 1 }
        var elseList: [Node]?
        if case .elseClause = terminator {
            // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}.
            if context == "if" && peek().kind == .ifKeyword {
                _ = next()
                elseList = [try ifControl()]
            } else if context == "with" && peek().kind == .with {
                _ = next()
                elseList = [try withControl()]
            } else {
                let (list, end) = try itemList()
                if case .elseClause(let pos) = end {
                    throw ParseFailure(offset: pos, message: "expected end; found {{else}}")
                }
                elseList = list
            }
        }
        return (pipe, list, elseList)
    }

    // MARK: Pipelines

    private mutating func pipeline(_ context: String, end: TokenKind) throws(ParseFailure) -> Pipeline {
        var pipe = Pipeline(pos: peekNonSpace().pos)
        try declarations(into: &pipe, context)
        while true {
            let token = nextNonSpace()
            switch token.kind {
            case end:
                try check(pipe, context, at: token.pos)
                return pipe
            case .bool, .charConstant, .complex, .dot, .field, .identifier, .number, .nilKeyword, .rawString, .string, .variable, .leftParen:
                backup()
                pipe.commands.append(try command())
            default:
                try unexpected(token, context)
            }
        }
    }

    /// `$x :=`, `$x =`, and `range $i, $e :=`. Three tokens of look-ahead decide whether a leading
    /// variable is declared or is just the first operand.
    private mutating func declarations(into pipe: inout Pipeline, _ context: String) throws(ParseFailure) {
        while peekNonSpace().kind == .variable {
            let variableIndex = index
            let variable = next()
            let following = peekNonSpace()
            switch following.kind {
            case .assign, .declare:
                pipe.isAssign = following.kind == .assign
                _ = nextNonSpace()
                pipe.declarations.append(variable.value)
                variables.append(variable.value)
                return
            case .char where following.value == ",":
                _ = nextNonSpace()
                pipe.declarations.append(variable.value)
                variables.append(variable.value)
                if context == "range" && pipe.declarations.count < 2 {
                    switch peekNonSpace().kind {
                    case .variable, .rightDelim, .rightParen:
                        continue  // The second variable of a range.
                    default:
                        throw ParseFailure(offset: following.pos, message: "range can only initialize variables")
                    }
                }
                throw ParseFailure(offset: following.pos, message: "too many declarations in \(context)")
            default:
                index = variableIndex  // Not a declaration: the variable is an operand.
                return
            }
        }
    }

    private func check(_ pipe: Pipeline, _ context: String, at pos: Int) throws(ParseFailure) {
        guard !pipe.commands.isEmpty else {
            throw ParseFailure(offset: pos, message: "missing value for \(context)")
        }
        // Only the first command of a pipeline can start with a non-executable operand.
        for (offset, command) in pipe.commands.enumerated().dropFirst() {
            switch command.arguments.first {
            case .bool, .dot, .nilValue, .number, .string:
                throw ParseFailure(offset: command.pos, message: "non executable command in pipeline stage \(offset + 1)")
            default:
                continue
            }
        }
    }

    /// operand (space operand)*, up to "|", "}}" or ")".
    private mutating func command() throws(ParseFailure) -> Command {
        var command = Command(pos: peekNonSpace().pos)
        loop: while true {
            _ = peekNonSpace()
            if let operand = try operand() {
                command.arguments.append(operand)
            }
            let token = next()
            switch token.kind {
            case .space:
                continue
            case .rightDelim, .rightParen:
                backup()
            case .pipe:
                break
            default:
                try unexpected(token, "operand")
            }
            break loop
        }
        guard !command.arguments.isEmpty else {
            throw ParseFailure(offset: command.pos, message: "empty command")
        }
        return command
    }

    /// A term followed by any number of `.Field` accesses.
    private mutating func operand() throws(ParseFailure) -> Operand? {
        guard let term = try term() else { return nil }
        guard peek().kind == .field else { return term }
        let chainPos = peek().pos
        var fields: [String] = []
        while peek().kind == .field {
            fields.append(String(next().value.dropFirst()))
        }
        switch term {
        case .field(let pos, let names):
            return .field(pos: pos, names: names + fields)
        case .variable(let pos, let name, let existing):
            return .variable(pos: pos, name: name, fields: existing + fields)
        case .bool, .string, .number, .nilValue, .dot:
            throw ParseFailure(offset: chainPos, message: "unexpected . after term \(GoStrings.quote(term.description))")
        default:
            return .chain(pos: chainPos, base: term, fields: fields)
        }
    }

    private mutating func term() throws(ParseFailure) -> Operand? {
        let token = nextNonSpace()
        switch token.kind {
        case .identifier:
            guard let function = FunctionTable.function(named: token.value) else {
                throw ParseFailure(offset: token.pos, message: "function \(GoStrings.quote(token.value)) not defined")
            }
            return .function(pos: token.pos, function)
        case .dot:
            return .dot(pos: token.pos)
        case .nilKeyword:
            return .nilValue(pos: token.pos)
        case .variable:
            guard variables.contains(token.value) else {
                throw ParseFailure(offset: token.pos, message: "undefined variable \(GoStrings.quote(token.value))")
            }
            return .variable(pos: token.pos, name: token.value, fields: [])
        case .field:
            return .field(pos: token.pos, names: [String(token.value.dropFirst())])
        case .bool:
            return .bool(pos: token.pos, token.value == "true")
        case .charConstant, .complex, .number:
            do {
                return .number(pos: token.pos, try NumberLiteral(text: token.value, kind: token.kind))
            } catch {
                throw ParseFailure(offset: token.pos, message: error.message)
            }
        case .leftParen:
            try enterNesting(at: token.pos)
            defer { depth -= 1 }
            return .pipeline(try pipeline("parenthesized pipeline", end: .rightParen))
        case .string, .rawString:
            guard let value = GoStrings.unquote(token.value) else {
                throw ParseFailure(offset: token.pos, message: "invalid syntax")
            }
            return .string(pos: token.pos, quoted: token.value, value: value)
        default:
            backup()
            return nil
        }
    }
}
