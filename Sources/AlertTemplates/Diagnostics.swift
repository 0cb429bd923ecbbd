/// A syntax error found while lexing or parsing, at a byte offset of the template text.
struct ParseFailure: Error {
    let offset: Int
    let message: String
}

/// An execution error at a node: `context` is the node as Go prints it in `at <...>`.
struct ExecFailure: Error {
    let offset: Int
    let context: String
    let message: String
}

/// Error wording follows Go's text/template ("template: NAME:LINE: msg" for parse errors,
/// "template: NAME:LINE:COL: executing "NAME" at <node>: msg" for execution errors), with a column
/// added to parse errors too. Columns are 0-based byte offsets within the line, as Go reports them.
/// The default name "template" is left out, so messages read "template: 1:14: ...".
enum Diagnostics {
    static let defaultName = "template"

    static func parseMessage(_ failure: ParseFailure, template name: String, text: String) -> String {
        let (line, column) = location(of: failure.offset, in: text)
        return "template: \(prefix(name))\(line):\(column): \(failure.message)"
    }

    static func execMessage(_ failure: ExecFailure, template name: String, text: String) -> String {
        let (line, column) = location(of: failure.offset, in: text)
        let executing = name == defaultName ? "executing" : "executing \(GoStrings.quote(name))"
        return "template: \(prefix(name))\(line):\(column): \(executing) at <\(failure.context)>: \(failure.message)"
    }

    /// "NAME:" for a named template, nothing for the default name.
    static func prefix(_ name: String) -> String {
        name == defaultName ? "" : "\(name):"
    }

    /// 1-based line and 0-based byte column of a byte offset, as Go's ErrorContext computes them.
    static func location(of offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for (index, byte) in text.utf8.prefix(offset).enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart)
    }

    static func line(of offset: Int, in text: String) -> Int { location(of: offset, in: text).line }
}
