/// Go's string literal rules (strconv.Quote / Unquote / UnquoteChar) and unicode.IsPrint.
enum GoStrings {
    /// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    static func isPrint(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value >= 0x20 && scalar.value < 0x7F }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark,
            .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation,
            .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// strconv.Quote (or QuoteToASCII): a double-quoted Go string literal.
    static func quote(_ text: String, asciiOnly: Bool = false) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            appendEscaped(scalar, quote: "\"", asciiOnly: asciiOnly, to: &result)
        }
        result += "\""
        return result
    }

    /// strconv.QuoteRune (or QuoteRuneToASCII): a single-quoted Go rune literal.
    static func quoteRune(_ rune: Int, asciiOnly: Bool = false) -> String {
        let scalar = Unicode.Scalar(UInt32(clamping: max(rune, 0))) ?? "\u{FFFD}"
        var result = "'"
        appendEscaped(rune > 0x10FFFF || rune < 0 ? "\u{FFFD}" : scalar, quote: "'", asciiOnly: asciiOnly, to: &result)
        result += "'"
        return result
    }

    private static func appendEscaped(_ scalar: Unicode.Scalar, quote: Unicode.Scalar, asciiOnly: Bool, to result: inout String) {
        if scalar == quote || scalar == "\\" {
            result += "\\"
            result.unicodeScalars.append(scalar)
            return
        }
        if asciiOnly ? (scalar.value < 0x80 && isPrint(scalar)) : isPrint(scalar) {
            result.unicodeScalars.append(scalar)
            return
        }
        switch scalar {
        case "\u{07}": result += "\\a"
        case "\u{08}": result += "\\b"
        case "\u{0C}": result += "\\f"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{0B}": result += "\\v"
        default:
            let value = scalar.value
            if value < 0x20 || value == 0x7F {
                result += "\\x" + hex(value, width: 2)
            } else if value < 0x10000 {
                result += "\\u" + hex(value, width: 4)
            } else {
                result += "\\U" + hex(value, width: 8)
            }
        }
    }

    static func hex(_ value: UInt32, width: Int, uppercase: Bool = false) -> String {
        let digits = String(value, radix: 16, uppercase: uppercase)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// strconv.Unquote for "..." and `...` literals; nil means "invalid syntax".
    static func unquote(_ literal: String) -> String? {
        let bytes = Array(literal.utf8)
        guard bytes.count >= 2, let quote = bytes.first, quote == bytes.last else { return nil }
        let body = bytes[1..<(bytes.count - 1)]
        if quote == UInt8(ascii: "`") {
            // Raw strings drop carriage returns, as Go's do.
            guard !body.contains(UInt8(ascii: "`")) else { return nil }
            return String(decoding: body.filter { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        }
        guard quote == UInt8(ascii: "\"") else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") { return nil }
            if byte != UInt8(ascii: "\\") {
                output.append(byte)
                index += 1
                continue
            }
            guard let (bytes, next) = unescape(body, at: index, quote: UInt8(ascii: "\"")) else { return nil }
            output += bytes
            index = next
        }
        return String(decoding: output, as: UTF8.self)
    }

    enum CharConstant {
        case rune(Int)
        /// A valid character followed by more ("'ab'").
        case malformed
        case invalid
    }

    /// The value of a 'x' character constant (strconv.UnquoteChar plus the closing quote).
    static func unquoteCharConstant(_ literal: String) -> CharConstant {
        let bytes = Array(literal.utf8)
        guard bytes.count >= 3, bytes.first == UInt8(ascii: "'"), bytes.last == UInt8(ascii: "'") else { return .invalid }
        let body = bytes[1..<(bytes.count - 1)]
        if body.first == UInt8(ascii: "\\") {
            guard let (value, next) = unescapeRune(body, at: body.startIndex, quote: UInt8(ascii: "'")) else { return .invalid }
            return next == body.endIndex ? .rune(value) : .malformed
        }
        let scalars = String(decoding: body, as: UTF8.self).unicodeScalars
        guard let first = scalars.first, first != "'" else { return .invalid }
        return scalars.count == 1 ? .rune(Int(first.value)) : .malformed
    }

    /// One backslash escape inside a string: \x and octal escapes are single bytes, the rest runes.
    private static func unescape(_ body: ArraySlice<UInt8>, at index: Int, quote: UInt8) -> ([UInt8], Int)? {
        let kind = index + 1 < body.endIndex ? body[index + 1] : 0
        if kind == UInt8(ascii: "x") || (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(kind) {
            guard let (value, next) = unescapeRune(body, at: index, quote: quote) else { return nil }
            return ([UInt8(value)], next)
        }
        guard let (value, next) = unescapeRune(body, at: index, quote: quote), let scalar = Unicode.Scalar(UInt32(value)) else { return nil }
        return (Array(String(Character(scalar)).utf8), next)
    }

    private static func unescapeRune(_ body: ArraySlice<UInt8>, at index: Int, quote: UInt8) -> (Int, Int)? {
        guard index + 1 < body.endIndex else { return nil }
        let kind = body[index + 1]
        let simple: [UInt8: Int] = [
            UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "f"): 12, UInt8(ascii: "n"): 10,
            UInt8(ascii: "r"): 13, UInt8(ascii: "t"): 9, UInt8(ascii: "v"): 11, UInt8(ascii: "\\"): 92,
        ]
        if let value = simple[kind] { return (value, index + 2) }
        if kind == quote { return (Int(quote), index + 2) }
        func digits(_ count: Int, radix: Int) -> Int? {
            guard index + 2 + count <= body.endIndex else { return nil }
            return Int(String(decoding: body[(index + 2)..<(index + 2 + count)], as: UTF8.self), radix: radix)
        }
        switch kind {
        case UInt8(ascii: "x"):
            return digits(2, radix: 16).map { ($0, index + 4) }
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = kind == UInt8(ascii: "u") ? 4 : 8
            guard let value = digits(count, radix: 16), Unicode.Scalar(UInt32(clamping: value)) != nil else { return nil }
            return (value, index + 2 + count)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            guard index + 4 <= body.endIndex, let value = Int(String(decoding: body[(index + 1)..<(index + 4)], as: UTF8.self), radix: 8),
                value <= 255
            else { return nil }
            return (value, index + 4)
        default:
            return nil
        }
    }
}
