import Foundation

/// Parses Go template text into nodes. Errors carry `line:column` of the user's text, like Go's.
struct TemplateParser {
    private enum Item { case text(String), action(String, line: Int, column: Int) }

    let name: String
    let functions: Set<String>
    private var items: [Item] = []
    private var index = 0

    init(name: String, functions: Set<String>) {
        self.name = name
        self.functions = functions
    }

    mutating func parse(_ source: String) throws(TemplateError) -> [TemplateNode] {
        items = try Self.split(source, name: name)
        index = 0
        let (nodes, terminator) = try parseList()
        if let terminator { throw error("unexpected {{\(terminator)}}", at: index - 1) }
        return nodes
    }

    /// Cuts the source into text and actions, applying `{{-` / `-}}` trimming and dropping comments.
    private static func split(_ source: String, name: String) throws(TemplateError) -> [Item] {
        var items: [Item] = []
        var rest = Substring(source)
        var line = 1, column = 1
        func advance(over text: Substring) {
            for character in text {
                if character == "\n" { line += 1; column = 1 } else { column += 1 }
            }
        }
        var trimNextText = false
        while !rest.isEmpty {
            guard let open = rest.range(of: "{{") else {
                items.append(.text(trimNextText ? String(rest.drop(while: \.isWhitespace)) : String(rest)))
                break
            }
            var text = rest[..<open.lowerBound]
            if trimNextText { text = text.drop(while: \.isWhitespace) }
            advance(over: rest[..<open.upperBound])
            let (actionLine, actionColumn) = (line, column - 2)
            var inner = rest[open.upperBound...]
            if inner.hasPrefix("- ") || inner.hasPrefix("-\t") || inner.hasPrefix("-\n") {
                while let last = text.last, last.isWhitespace { text = text.dropLast() }
                inner = inner.dropFirst()
            }
            items.append(.text(String(text)))
            // Find the closing braces outside string literals.
            var cursor = inner.startIndex
            var quote: Character?
            var close: Range<Substring.Index>?
            while cursor < inner.endIndex {
                let character = inner[cursor]
                if let open = quote {
                    if character == "\\" && open == "\"" { cursor = inner.index(after: cursor) } else if character == open { quote = nil }
                } else if character == "\"" || character == "`" || character == "'" {
                    quote = character
                } else if inner[cursor...].hasPrefix("}}") {
                    close = cursor..<inner.index(cursor, offsetBy: 2)
                    break
                }
                if cursor < inner.endIndex { cursor = inner.index(after: cursor) }
            }
            guard let close else { throw TemplateError(message: "template: \(name):\(actionLine): unclosed action") }
            var body = inner[..<close.lowerBound]
            trimNextText = false
            if body.hasSuffix(" -") || body.hasSuffix("\t-") || body.hasSuffix("\n-") {
                body = body.dropLast()
                trimNextText = true
            }
            let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
            if !(trimmed.hasPrefix("/*") && trimmed.hasSuffix("*/")) {
                items.append(.action(trimmed, line: actionLine, column: actionColumn))
            }
            advance(over: inner[..<close.upperBound])
            rest = inner[close.upperBound...]
        }
        return items
    }

    /// Parses nodes until `end`/`else` (returned as the terminator) or the end of input.
    private mutating func parseList() throws(TemplateError) -> ([TemplateNode], String?) {
        var nodes: [TemplateNode] = []
        while index < items.count {
            let item = items[index]
            index += 1
            switch item {
            case .text(let text):
                if !text.isEmpty { nodes.append(.text(text)) }
            case .action(let body, let line, let column):
                let keyword = body.prefix { !$0.isWhitespace }
                let argument = body.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
                switch keyword {
                case "end":
                    return (nodes, "end")
                case "else":
                    return (nodes, argument.isEmpty ? "else" : "else " + argument)
                case "if":
                    nodes.append(try parseIf(argument, line: line, column: column))
                case "range", "with":
                    let pipeline = try parsePipeline(argument, line: line, column: column, allowRangeVariables: keyword == "range")
                    let (body, terminator) = try parseList()
                    var otherwise: [TemplateNode]?
                    if terminator == "else" {
                        let (elseBody, end) = try parseList()
                        guard end == "end" else { throw error("expected end; found \(end ?? "EOF")", line: line, column: column) }
                        otherwise = elseBody
                    } else if terminator != "end" {
                        throw error("unexpected EOF", line: line, column: column)
                    }
                    nodes.append(keyword == "range" ? .range(pipeline, body: body, otherwise: otherwise) : .with(pipeline, body: body, otherwise: otherwise))
                case "define", "template", "block", "break", "continue":
                    throw error("{{\(keyword)}} is not supported in alert templates", line: line, column: column)
                default:
                    nodes.append(.action(try parsePipeline(body, line: line, column: column)))
                }
            }
        }
        return (nodes, nil)
    }

    private mutating func parseIf(_ condition: String, line: Int, column: Int) throws(TemplateError) -> TemplateNode {
        var branches: [(Pipeline, [TemplateNode])] = []
        var pipeline = try parsePipeline(condition, line: line, column: column)
        while true {
            let (body, terminator) = try parseList()
            branches.append((pipeline, body))
            switch terminator {
            case "end":
                return .ifNode(branches: branches, otherwise: nil)
            case "else":
                let (otherwise, end) = try parseList()
                guard end == "end" else { throw error("expected end; found \(end ?? "EOF")", line: line, column: column) }
                return .ifNode(branches: branches, otherwise: otherwise)
            case let terminator? where terminator.hasPrefix("else if "):
                pipeline = try parsePipeline(String(terminator.dropFirst("else if ".count)), line: line, column: column)
            default:
                throw error("unexpected EOF", line: line, column: column)
            }
        }
    }

    // MARK: Pipelines

    private enum Token: Equatable { case word(String), string(String), number(Double, Bool), pipe, open, close, declare, assign, comma }

    private func tokenize(_ text: String, line: Int, column: Int) throws(TemplateError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace { i += 1; continue }
            switch c {
            case "|": tokens.append(.pipe); i += 1
            case "(": tokens.append(.open); i += 1
            case ")": tokens.append(.close); i += 1
            case ",": tokens.append(.comma); i += 1
            case ":" where i + 1 < characters.count && characters[i + 1] == "=": tokens.append(.declare); i += 2
            case "=": tokens.append(.assign); i += 1
            case "\"":
                var value = ""
                i += 1
                while i < characters.count && characters[i] != "\"" {
                    if characters[i] == "\\" && i + 1 < characters.count {
                        i += 1
                        switch characters[i] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        default: value.append(characters[i])
                        }
                    } else {
                        value.append(characters[i])
                    }
                    i += 1
                }
                guard i < characters.count else { throw error("unterminated quoted string", line: line, column: column) }
                tokens.append(.string(value)); i += 1
            case "`":
                guard let end = characters[(i + 1)...].firstIndex(of: "`") else { throw error("unterminated raw quoted string", line: line, column: column) }
                tokens.append(.string(String(characters[(i + 1)..<end]))); i = end + 1
            default:
                var word = ""
                while i < characters.count, !characters[i].isWhitespace, !"|(),\"`".contains(characters[i]),
                      !(characters[i] == ":" && i + 1 < characters.count && characters[i + 1] == "="), characters[i] != "=" {
                    word.append(characters[i]); i += 1
                }
                if let first = word.first, first.isNumber || ((first == "-" || first == "+") && word.count > 1 && word.dropFirst().first!.isNumber) {
                    guard let value = Double(word) else { throw error("bad number syntax: \"\(word)\"", line: line, column: column) }
                    tokens.append(.number(value, !word.contains(".") && !word.lowercased().contains("e")))
                } else if word.isEmpty {
                    throw error("unexpected \"\(c)\" in command", line: line, column: column)
                } else {
                    tokens.append(.word(word))
                }
            }
        }
        return tokens
    }

    private func parsePipeline(_ text: String, line: Int, column: Int, allowRangeVariables: Bool = false) throws(TemplateError) -> Pipeline {
        var tokens = try tokenize(text, line: line, column: column)[...]
        if tokens.isEmpty { throw error("missing value for command", line: line, column: column) }
        var pipeline = Pipeline(commands: [], position: "\(line):\(column)")
        // Leading declarations: `$x :=`, `$k, $v :=` (range), `$x =`.
        var declared: [String] = []
        var lookahead = tokens
        while case .word(let word)? = lookahead.first, word.hasPrefix("$"), !word.contains(".") {
            declared.append(word)
            lookahead = lookahead.dropFirst()
            if lookahead.first == .comma && allowRangeVariables { lookahead = lookahead.dropFirst(); continue }
            break
        }
        if !declared.isEmpty, let marker = lookahead.first, marker == .declare || marker == .assign {
            pipeline.variables = declared
            pipeline.isAssignment = marker == .assign
            tokens = lookahead.dropFirst()
        }
        pipeline.commands = try parseCommands(&tokens, line: line, column: column, nested: false)
        return pipeline
    }

    private func parseCommands(_ tokens: inout ArraySlice<Token>, line: Int, column: Int, nested: Bool) throws(TemplateError) -> [[Operand]] {
        var commands: [[Operand]] = []
        var current: [Operand] = []
        while let token = tokens.first {
            tokens = tokens.dropFirst()
            switch token {
            case .pipe:
                guard !current.isEmpty else { throw error("missing command before |", line: line, column: column) }
                commands.append(current)
                current = []
            case .close:
                guard nested else { throw error("unexpected right paren", line: line, column: column) }
                guard !current.isEmpty else { throw error("missing value in parenthesized pipeline", line: line, column: column) }
                commands.append(current)
                return commands
            case .open:
                let inner = try parseCommands(&tokens, line: line, column: column, nested: true)
                current.append(.pipeline(Pipeline(commands: inner, position: "\(line):\(column)")))
            case .string(let value): current.append(.string(value))
            case .number(let value, let isInteger): current.append(.number(value, isInteger: isInteger))
            case .word(let word): current.append(try operand(word, line: line, column: column))
            case .declare, .assign, .comma: throw error("unexpected token in command", line: line, column: column)
            }
        }
        if nested { throw error("unclosed left paren", line: line, column: column) }
        guard !current.isEmpty else { throw error("missing command after |", line: line, column: column) }
        commands.append(current)
        return commands
    }

    private func operand(_ word: String, line: Int, column: Int) throws(TemplateError) -> Operand {
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "nil": return .null
        case ".": return .field([])
        default: break
        }
        if word.hasPrefix(".") { return .field(word.dropFirst().split(separator: ".").map(String.init)) }
        if word.hasPrefix("$") {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            return .variable(parts[0], Array(parts.dropFirst()))
        }
        guard functions.contains(word) else { throw error("function \"\(word)\" not defined", line: line, column: column) }
        return .identifier(word)
    }

    private func error(_ message: String, line: Int, column: Int) -> TemplateError {
        // Go reports parse errors by line only: "template: name:1: function \"x\" not defined".
        _ = column
        return TemplateError(message: "template: \(name):\(line): \(message)")
    }

    private func error(_ message: String, at itemIndex: Int) -> TemplateError {
        if itemIndex >= 0, itemIndex < items.count, case .action(_, let line, let column) = items[itemIndex] {
            return error(message, line: line, column: column)
        }
        return TemplateError(message: "template: \(name): \(message)")
    }
}
