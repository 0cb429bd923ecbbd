/// The kinds of token Go's text/template lexer emits.
enum TokenKind: Equatable, Sendable {
    case error, bool, char, charConstant, complex, assign, declare, eof, field, identifier
    case leftDelim, leftParen, number, pipe, rawString, rightDelim, rightParen, space, string, text, variable
    // Keywords.
    case block, breakKeyword, continueKeyword, dot, define, elseKeyword, end, ifKeyword, nilKeyword, range, template, with

    static func keyword(_ word: String) -> TokenKind? {
        switch word {
        case ".": .dot
        case "block": .block
        case "break": .breakKeyword
        case "continue": .continueKeyword
        case "define": .define
        case "else": .elseKeyword
        case "end": .end
        case "if": .ifKeyword
        case "nil": .nilKeyword
        case "range": .range
        case "template": .template
        case "with": .with
        default: nil
        }
    }

    var isKeyword: Bool {
        switch self {
        case .block, .breakKeyword, .continueKeyword, .dot, .define, .elseKeyword, .end, .ifKeyword, .nilKeyword, .range, .template, .with: true
        default: false
        }
    }
}

struct Token: Sendable {
    let kind: TokenKind
    /// Byte offset of the token's start in the template text.
    let pos: Int
    /// The token's text; for `.error`, the error message.
    let value: String

    /// How Go's parser names a token in "unexpected X in Y" messages.
    var goDescription: String {
        switch kind {
        case .eof: return "EOF"
        case .error: return value
        case _ where kind.isKeyword: return "<\(value)>"
        default:
            let scalars = value.unicodeScalars
            if scalars.count > 10 {
                return GoStrings.quote(String(String.UnicodeScalarView(scalars.prefix(10)))) + "..."
            }
            return GoStrings.quote(value)
        }
    }
}

/// A port of Go's text/template lexer (state machine included, so trim markers, comments and
/// error cases behave identically). It runs eagerly: the parser never changes how it lexes.
struct Lexer {
    private let input: [UInt8]
    private var pos = 0
    private var start = 0
    private var width = 0
    private var parenDepth = 0
    private var tokens: [Token] = []

    private enum State { case text, leftDelim, comment, rightDelim, insideAction, space, identifier, field, variable, quote, rawQuote, char, number, done }

    static func tokenize(_ text: String) -> [Token] {
        var lexer = Lexer(input: Array(text.utf8))
        var state = State.text
        while state != .done {
            state = lexer.step(state)
        }
        return lexer.tokens
    }

    private init(input: [UInt8]) { self.input = input }

    private mutating func step(_ state: State) -> State {
        switch state {
        case .text: lexText()
        case .leftDelim: lexLeftDelim()
        case .comment: lexComment()
        case .rightDelim: lexRightDelim()
        case .insideAction: lexInsideAction()
        case .space: lexSpace()
        case .identifier: lexIdentifier()
        case .field: lexFieldOrVariable(.field)
        case .variable: atTerminator() ? emit(.variable, then: .insideAction) : lexFieldOrVariable(.variable)
        case .quote: lexQuote()
        case .rawQuote: lexRawQuote()
        case .char: lexChar()
        case .number: lexNumber()
        case .done: .done
        }
    }

    // MARK: Reading runes

    private static let eof: UInt32 = .max

    private mutating func next() -> UInt32 {
        guard pos < input.count else {
            width = 0
            return Self.eof
        }
        let (rune, size) = decodeRune(at: pos)
        width = size
        pos += size
        return rune
    }

    private mutating func backup() { pos -= width }

    private mutating func peek() -> UInt32 {
        let rune = next()
        backup()
        return rune
    }

    private func decodeRune(at index: Int) -> (UInt32, Int) {
        let lead = input[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        var iterator = input[index...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return (scalar.value, UTF8.width(scalar))
        }
        return (0xFFFD, 1)
    }

    private func hasPrefix(_ prefix: String, at index: Int) -> Bool {
        let bytes = prefix.utf8
        guard index + bytes.count <= input.count else { return false }
        return zip(input[index...], bytes).allSatisfy { $0 == $1 }
    }

    // MARK: Emitting

    private mutating func emit(_ kind: TokenKind, then next: State) -> State {
        tokens.append(Token(kind: kind, pos: start, value: String(decoding: input[start..<pos], as: UTF8.self)))
        start = pos
        return next
    }

    private mutating func ignore() { start = pos }

    private mutating func fail(_ message: String) -> State {
        tokens.append(Token(kind: .error, pos: start, value: message))
        return .done
    }

    // MARK: Trim markers: "{{- " and " -}}" (any ASCII space after or before the dash).

    private static func isSpace(_ rune: UInt32) -> Bool { rune == 0x20 || rune == 0x09 || rune == 0x0D || rune == 0x0A }

    private func hasLeftTrimMarker(at index: Int) -> Bool {
        index + 1 < input.count && input[index] == UInt8(ascii: "-") && Self.isSpace(UInt32(input[index + 1]))
    }

    private func hasRightTrimMarker(at index: Int) -> Bool {
        index + 1 < input.count && Self.isSpace(UInt32(input[index])) && input[index + 1] == UInt8(ascii: "-")
    }

    private func atRightDelim() -> (delim: Bool, trim: Bool) {
        if hasRightTrimMarker(at: pos) && hasPrefix("}}", at: pos + 2) { return (true, true) }
        return (hasPrefix("}}", at: pos), false)
    }

    // MARK: States

    private mutating func lexText() -> State {
        var index = pos
        while index + 1 < input.count && !(input[index] == UInt8(ascii: "{") && input[index + 1] == UInt8(ascii: "{")) {
            index += 1
        }
        guard index + 1 < input.count else {
            pos = input.count
            if pos > start { _ = emit(.text, then: .text) }
            return emit(.eof, then: .done)
        }
        var trimmed = index
        if hasLeftTrimMarker(at: index + 2) {
            while trimmed > start && Self.isSpace(UInt32(input[trimmed - 1])) { trimmed -= 1 }
        }
        pos = trimmed
        if pos > start { _ = emit(.text, then: .text) }
        pos = index
        ignore()
        return .leftDelim
    }

    private mutating func lexLeftDelim() -> State {
        pos += 2
        let afterMarker = hasLeftTrimMarker(at: pos) ? 2 : 0
        if hasPrefix("/*", at: pos + afterMarker) {
            pos += afterMarker
            ignore()
            return .comment
        }
        _ = emit(.leftDelim, then: .insideAction)
        pos += afterMarker
        ignore()
        parenDepth = 0
        return .insideAction
    }

    private mutating func lexComment() -> State {
        pos += 2
        var index = pos
        while index + 1 < input.count && !(input[index] == UInt8(ascii: "*") && input[index + 1] == UInt8(ascii: "/")) {
            index += 1
        }
        guard index + 1 < input.count else { return fail("unclosed comment") }
        pos = index + 2
        let (delim, trim) = atRightDelim()
        guard delim else { return fail("comment ends before closing delimiter") }
        pos += trim ? 4 : 2
        if trim { skipLeadingSpace() }
        ignore()
        return .text
    }

    private mutating func skipLeadingSpace() {
        while pos < input.count && Self.isSpace(UInt32(input[pos])) { pos += 1 }
    }

    private mutating func lexRightDelim() -> State {
        let trim = hasRightTrimMarker(at: pos)
        if trim {
            pos += 2
            ignore()
        }
        pos += 2
        _ = emit(.rightDelim, then: .text)
        if trim {
            skipLeadingSpace()
            ignore()
        }
        return .text
    }

    private mutating func lexInsideAction() -> State {
        if atRightDelim().delim {
            return parenDepth == 0 ? .rightDelim : fail("unclosed left paren")
        }
        let rune = next()
        switch rune {
        case Self.eof:
            return fail("unclosed action")
        case _ where Self.isSpace(rune):
            backup()  // The space may start a " -}}".
            return .space
        case ascii("="):
            return emit(.assign, then: .insideAction)
        case ascii(":"):
            guard next() == ascii("=") else { return fail("expected :=") }
            return emit(.declare, then: .insideAction)
        case ascii("|"):
            return emit(.pipe, then: .insideAction)
        case ascii("\""):
            return .quote
        case ascii("`"):
            return .rawQuote
        case ascii("$"):
            return .variable
        case ascii("'"):
            return .char
        case ascii("."):
            // ".field" unless a digit follows: ".5" is a number.
            if pos < input.count && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[pos]) {
                return .field
            }
            backup()
            return .number
        case ascii("+"), ascii("-"), ascii("0")...ascii("9"):
            backup()
            return .number
        case _ where Self.isAlphaNumeric(rune):
            backup()
            return .identifier
        case ascii("("):
            parenDepth += 1
            return emit(.leftParen, then: .insideAction)
        case ascii(")"):
            parenDepth -= 1
            if parenDepth < 0 { return fail("unexpected right paren \(Self.describe(rune))") }
            return emit(.rightParen, then: .insideAction)
        case 0x21...0x7E:
            return emit(.char, then: .insideAction)
        default:
            return fail("unrecognized character in action: \(Self.describe(rune))")
        }
    }

    private mutating func lexSpace() -> State {
        var count = 0
        while Self.isSpace(peek()) {
            _ = next()
            count += 1
        }
        // A space followed by "-}}" belongs to the trim-marked right delimiter.
        if hasRightTrimMarker(at: pos - 1) && hasPrefix("}}", at: pos + 1) {
            backup()
            if count == 1 { return .rightDelim }
        }
        return emit(.space, then: .insideAction)
    }

    private mutating func lexIdentifier() -> State {
        var rune = next()
        while Self.isAlphaNumeric(rune) { rune = next() }
        backup()
        guard atTerminator() else { return fail("bad character \(Self.describe(rune))") }
        let word = String(decoding: input[start..<pos], as: UTF8.self)
        if let keyword = TokenKind.keyword(word) {
            return emit(keyword, then: .insideAction)
        }
        return emit(word == "true" || word == "false" ? .bool : .identifier, then: .insideAction)
    }

    /// ".Name" or "$name"; a lone "." or "$" when nothing alphanumeric follows.
    private mutating func lexFieldOrVariable(_ kind: TokenKind) -> State {
        if atTerminator() {
            return emit(kind == .variable ? .variable : .dot, then: .insideAction)
        }
        var rune = next()
        while Self.isAlphaNumeric(rune) { rune = next() }
        backup()
        guard atTerminator() else { return fail("bad character \(Self.describe(rune))") }
        return emit(kind, then: .insideAction)
    }

    /// Whether the next rune can end an identifier; breaks ".X.Y" into pieces and rejects "$x+2".
    private mutating func atTerminator() -> Bool {
        let rune = peek()
        if Self.isSpace(rune) { return true }
        switch rune {
        case Self.eof, ascii("."), ascii(","), ascii("|"), ascii(":"), ascii(")"), ascii("("), ascii("}"): return true
        default: return false
        }
    }

    private mutating func lexQuoted(_ quote: UInt32, unterminated: String) -> State {
        while true {
            switch next() {
            case ascii("\\"):
                let escaped = next()
                if escaped == Self.eof || escaped == ascii("\n") { return fail(unterminated) }
            case Self.eof, ascii("\n"):
                return fail(unterminated)
            case quote:
                return emit(quote == ascii("'") ? .charConstant : .string, then: .insideAction)
            default:
                continue
            }
        }
    }

    private mutating func lexQuote() -> State { lexQuoted(ascii("\""), unterminated: "unterminated quoted string") }

    private mutating func lexChar() -> State { lexQuoted(ascii("'"), unterminated: "unterminated character constant") }

    private mutating func lexRawQuote() -> State {
        while true {
            switch next() {
            case Self.eof: return fail("unterminated raw quoted string")
            case ascii("`"): return emit(.rawString, then: .insideAction)
            default: continue
            }
        }
    }

    private mutating func lexNumber() -> State {
        guard scanNumber() else { return fail("bad number syntax: \(GoStrings.quote(currentText))") }
        let sign = peek()
        if sign == ascii("+") || sign == ascii("-") {
            // Complex: 1+2i. No spaces, must end in 'i'.
            guard scanNumber(), input[pos - 1] == UInt8(ascii: "i") else {
                return fail("bad number syntax: \(GoStrings.quote(currentText))")
            }
            return emit(.complex, then: .insideAction)
        }
        return emit(.number, then: .insideAction)
    }

    private var currentText: String { String(decoding: input[start..<pos], as: UTF8.self) }

    /// Accepts more than Go's grammar (e.g. "089"); the parser's number conversion rejects the rest.
    private mutating func scanNumber() -> Bool {
        _ = accept("+-")
        var digits = "0123456789_"
        if accept("0") {
            if accept("xX") {
                digits = "0123456789abcdefABCDEF_"
            } else if accept("oO") {
                digits = "01234567_"
            } else if accept("bB") {
                digits = "01_"
            }
        }
        acceptRun(digits)
        if accept(".") { acceptRun(digits) }
        if digits.count == 11 && accept("eE") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        if digits.count == 23 && accept("pP") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        _ = accept("i")
        if Self.isAlphaNumeric(peek()) {
            _ = next()
            return false
        }
        return true
    }

    private mutating func accept(_ valid: String) -> Bool {
        let rune = next()
        if rune != Self.eof, valid.unicodeScalars.contains(where: { $0.value == rune }) { return true }
        backup()
        return false
    }

    private mutating func acceptRun(_ valid: String) {
        while accept(valid) {}
    }

    // MARK: Character classes

    static func isAlphaNumeric(_ rune: UInt32) -> Bool {
        if rune < 0x80 {
            return rune == ascii("_") || (ascii("a")...ascii("z")).contains(rune) || (ascii("A")...ascii("Z")).contains(rune)
                || (ascii("0")...ascii("9")).contains(rune)
        }
        guard rune != eof, let scalar = Unicode.Scalar(rune) else { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber: return true
        default: return false
        }
    }

    /// Go's %#U: "U+0041 'A'", without the quoted rune when it is not printable.
    static func describe(_ rune: UInt32) -> String {
        let hex = String(rune, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if let scalar = Unicode.Scalar(rune), GoStrings.isPrint(scalar) {
            return "\(code) '\(Character(scalar))'"
        }
        return code
    }
}

/// The code point of an ASCII character, for matching runes.
private func ascii(_ character: Unicode.Scalar) -> UInt32 { character.value }
